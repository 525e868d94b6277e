"""Regenerate the sample CSV files of the demo shop (BeanBox, a coffee retailer in Belgium and the
Netherlands): ``python data/make_data.py``.

Deterministic: a fixed seed and a fixed "today" (2025-03-14), so the files only change when this
script does. Nothing runs it at test time; the CSV files are committed.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import shutil
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The demo bot ships its own copy inside the package (toolkit/demo/data/); tests/test_demo.py checks
# that the two stay byte for byte the same.
PACKAGE_DATA = HERE.parent / "toolkit" / "demo" / "data"
TODAY = dt.date(2025, 3, 14)
SEED = 20250314
SHOP = "https://shop.example.com"

FIRST = ["Emma", "Lucas", "Louise", "Noah", "Olivia", "Arthur", "Mila", "Jules", "Elena", "Liam",
         "Nora", "Finn", "Lotte", "Daan", "Sanne", "Bram", "Femke", "Thijs", "Sofie", "Wout",
         "Amélie", "Maxime", "Chloé", "Théo", "Inès", "Ruben", "Lien", "Jasper", "Fien", "Stijn"]
LAST = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
        "Wouters", "De Smet", "Dubois", "Lambert", "Dupont", "Van den Berg", "de Vries", "Bakker",
        "Visser", "Smit", "Meijer", "De Backer", "Vermeulen", "Hermans", "Declercq", "Martens"]
MAIL = ["example.com", "example.org", "example.net"]

# (category, sku prefix, names, price range in EUR)
CATALOGUE = [
    ("coffee", "CF", ["Ethiopia Yirgacheffe beans 250 g", "Colombia Huila beans 250 g",
                      "Brazil Cerrado beans 1 kg", "House espresso blend 1 kg", "Decaf Mexico 250 g",
                      "Kenya AA beans 250 g", "Guatemala Antigua 500 g", "Rwanda Nyamasheke 250 g",
                      "Espresso blend ground 250 g", "Filter blend ground 500 g", "Sumatra Mandheling 250 g",
                      "Costa Rica Tarrazú 250 g"], (6.5, 29.0)),
    ("tea", "TE", ["Earl Grey loose leaf 100 g", "Sencha green tea 100 g", "Rooibos vanilla 100 g",
                   "English breakfast 50 bags", "Chamomile blossoms 50 g", "Jasmine pearls 50 g",
                   "Masala chai 100 g", "Peppermint leaves 50 g"], (4.5, 16.0)),
    ("equipment", "EQ", ["Hand grinder, ceramic burrs", "Electric burr grinder", "Pour-over kettle 1 L",
                         "Moka pot 6 cups", "French press 1 L", "Pour-over dripper V60",
                         "AeroPress coffee maker", "Espresso machine, single boiler", "Milk frother",
                         "Cold brew jar 1.5 L", "Digital coffee scale", "Tamper 58 mm"], (14.0, 449.0)),
    ("accessories", "AC", ["Paper filters size 02 (100)", "Double-wall glass 250 ml (2)",
                           "Stoneware mug 350 ml", "Travel mug 400 ml", "Barista cloth (3)",
                           "Knock box", "Milk pitcher 600 ml", "Storage canister 500 g",
                           "Cleaning tablets (50)", "Descaler 500 ml", "Espresso cups (2)",
                           "Coffee tasting notebook"], (3.5, 39.0)),
]

CARRIERS = {
    "bpost": ("323299{:012d}", "https://track.bpost.cloud/btr/web/#/search?itemCode={}&lang=en"),
    "PostNL": ("3SBEL{:09d}", "https://jouw.postnl.nl/track-and-trace/{}-BE-9000"),
    "DHL": ("{:010d}", "https://www.dhl.com/be-en/home/tracking.html?tracking-id={}"),
    "DPD": ("0562{:010d}", "https://www.dpdgroup.com/be/mydpd/my-parcels/track?parcelNumber={}"),
    "GLS": ("{:011d}", "https://gls-group.com/BE/en/parcel-tracking?match={}"),
}

# (city, country, postcode, street, lat, lon, phone prefix)
CITIES = [
    ("Brussels", "BE", "1000", "Rue Neuve", 50.8503, 4.3517, "+32 2"),
    ("Antwerp", "BE", "2000", "Meir", 51.2180, 4.4087, "+32 3"),
    ("Ghent", "BE", "9000", "Veldstraat", 51.0520, 3.7225, "+32 9"),
    ("Bruges", "BE", "8000", "Steenstraat", 51.2077, 3.2219, "+32 50"),
    ("Leuven", "BE", "3000", "Bondgenotenlaan", 50.8812, 4.7090, "+32 16"),
    ("Liège", "BE", "4000", "Rue de la Cathédrale", 50.6412, 5.5712, "+32 4"),
    ("Namur", "BE", "5000", "Rue de Fer", 50.4669, 4.8661, "+32 81"),
    ("Mechelen", "BE", "2800", "Bruul", 51.0246, 4.4794, "+32 15"),
    ("Hasselt", "BE", "3500", "Hoogstraat", 50.9301, 5.3378, "+32 11"),
    ("Kortrijk", "BE", "8500", "Lange Steenstraat", 50.8276, 3.2650, "+32 56"),
    ("Ostend", "BE", "8400", "Kapellestraat", 51.2297, 2.9181, "+32 59"),
    ("Charleroi", "BE", "6000", "Rue de la Montagne", 50.4110, 4.4440, "+32 71"),
    ("Mons", "BE", "7000", "Rue de la Chaussée", 50.4542, 3.9523, "+32 65"),
    ("Aalst", "BE", "9300", "Nieuwstraat", 50.9378, 4.0395, "+32 53"),
    ("Genk", "BE", "3600", "Stadsplein", 50.9650, 5.5008, "+32 89"),
    ("Amsterdam", "NL", "1012", "Kalverstraat", 52.3702, 4.8904, "+31 20"),
    ("Rotterdam", "NL", "3011", "Lijnbaan", 51.9200, 4.4750, "+31 10"),
    ("Utrecht", "NL", "3511", "Oudegracht", 52.0907, 5.1214, "+31 30"),
    ("The Hague", "NL", "2513", "Spuistraat", 52.0780, 4.3120, "+31 70"),
    ("Eindhoven", "NL", "5611", "Demer", 51.4390, 5.4780, "+31 40"),
    ("Maastricht", "NL", "6211", "Grote Staat", 50.8500, 5.6900, "+31 43"),
    ("Breda", "NL", "4811", "Ginnekenstraat", 51.5860, 4.7760, "+31 76"),
    ("Groningen", "NL", "9711", "Herestraat", 53.2150, 6.5660, "+31 50"),
    ("Nijmegen", "NL", "6511", "Broerstraat", 51.8450, 5.8640, "+31 24"),
]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    keep = "".join(c.lower() if c.isalnum() else "-" for c in plain)
    return "-".join(part for part in keep.split("-") if part)


def products(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for category, prefix, names, (low, high) in CATALOGUE:
        for i, name in enumerate(names):
            sku = f"{prefix}-{1001 + i}"
            price = round(rng.uniform(low, high) * 2) / 2 - 0.05
            rows.append({
                "sku": sku, "name": name, "category": category, "price": f"{price:.2f}",
                "image_url": f"https://picsum.photos/seed/{sku.lower()}/640/400",
                "url": f"{SHOP}/products/{slug(name)}-{sku.lower()}",
                "stock": rng.choice([0, 0, 3, 5, 8, 12, 20, 35, 50, 80]),
            })
    return rows


def tracking(rng: random.Random, carrier: str) -> tuple[str, str]:
    number_format, url_format = CARRIERS[carrier]
    number = number_format.format(rng.randrange(10 ** 9, 10 ** 10))
    return number, url_format.format(number)


def order_items(rng: random.Random, catalogue: list[dict[str, object]]) -> tuple[str, float]:
    picked = rng.sample(catalogue, rng.choice([1, 1, 2, 2, 3]))
    lines, total = [], 0.0
    for product in picked:
        qty = 1 if product["category"] == "equipment" else rng.choice([1, 1, 2, 3])
        lines.append(f"{product['sku']} x{qty}")
        total += qty * float(str(product["price"]))
    return "; ".join(lines), total + (0.0 if total >= 50 else 4.95)


def status_for(age: int, rng: random.Random) -> str:
    """Newest orders are still being prepared, recent ones on their way, older ones delivered."""
    if age <= 2:
        return "processing"
    if age <= 9:
        return "shipped"
    return rng.choices(["delivered", "cancelled", "returned"], weights=[84, 8, 8])[0]


def orders(rng: random.Random, catalogue: list[dict[str, object]]) -> list[dict[str, object]]:
    rows = []
    first_id, count = 821, 240
    for n in range(count):
        newer = count - 1 - n  # orders after this one
        age = newer * 96 // count  # days before TODAY
        ordered = TODAY - dt.timedelta(days=age)
        status = status_for(age, rng)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        items, total = order_items(rng, catalogue)
        carrier = "" if status in ("processing", "cancelled") else rng.choice(list(CARRIERS))
        number, url = tracking(rng, carrier) if carrier else ("", "")
        eta = ordered + dt.timedelta(days=rng.randint(1, 4))
        if status in ("processing", "shipped"):
            eta = max(eta, TODAY + dt.timedelta(days=rng.randint(1, 3)))
        rows.append({
            "order_id": f"A-{first_id + n:04d}", "customer": f"{first} {last}",
            "email": f"{slug(first)}.{slug(last).replace('-', '')}@{rng.choice(MAIL)}",
            "status": status, "order_date": ordered.isoformat(),
            "eta": "" if status == "cancelled" else eta.isoformat(), "carrier": carrier,
            "tracking_number": number, "tracking_url": url, "items": items, "total": f"{total:.2f}",
        })
    return rows


def hours(rng: random.Random, city: str) -> dict[str, str]:
    opens = rng.choice(["08:30", "09:00", "09:30", "10:00"])
    closes = rng.choice(["18:00", "18:30", "19:00"])
    week = {day: f"{opens}-{closes}" for day in DAYS[:5]}
    week["sat"] = f"{opens}-{rng.choice(['17:00', '18:00'])}"
    week["sun"] = "12:00-17:00" if city in ("Brussels", "Antwerp", "Amsterdam", "Rotterdam",
                                            "Ostend", "Bruges") else "closed"
    if rng.random() < 0.3:
        week["mon"] = "closed"
    return week


def stores(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for i, (city, country, postcode, street, lat, lon, phone) in enumerate(CITIES, start=1):
        number = rng.randint(2, 140)
        local = f"{rng.randint(200, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        rows.append({
            "store_id": f"ST-{i:02d}", "name": f"BeanBox {city}", "city": city, "country": country,
            "address": f"{street} {number}, {postcode} {city}",
            "lat": f"{lat + rng.uniform(-0.003, 0.003):.5f}",
            "lon": f"{lon + rng.uniform(-0.003, 0.003):.5f}",
            "phone": f"{phone} {local}", **hours(rng, city),
        })
    return rows


FAQ = [
    ("How long does delivery take?", "Orders placed before 15:00 on a working day leave our warehouse "
     "the same day. Delivery takes 1-2 working days in Belgium and 2-3 in the Netherlands.",
     "delivery, shipping, how long, days, when"),
    ("How much is shipping?", "Shipping is free from 50 EUR. Below that we charge 4.95 EUR per order.",
     "shipping, cost, price, free, delivery"),
    ("Which carriers do you use?", "We ship with bpost, PostNL, DHL, DPD and GLS, depending on where "
     "you live. Your tracking link tells you which one has your parcel.", "carrier, bpost, postnl, dhl, dpd"),
    ("Where is my order?", "Give me your order number (it looks like A-1042) and I will look it up. "
     "You also find a tracking link in your shipping e-mail.", "order, status, where, track, tracking"),
    ("Can I change my order?", "As long as the order is 'processing' we can still change it. Once it "
     "has shipped it can no longer be changed.", "change, modify, edit, order, address"),
    ("Can I cancel my order?", "Orders that have not shipped yet can be cancelled free of charge. "
     "Shipped orders can be returned instead.", "cancel, cancellation, order, stop"),
    ("What is your return policy?", "You can return unopened products within 30 days of delivery. "
     "Opened coffee and tea cannot be returned for hygiene reasons.", "return, refund, policy, 30 days"),
    ("How do I return a product?", "Start a return from the link in your delivery e-mail, print the "
     "label and drop the parcel at any bpost or PostNL point.", "return, label, send back, parcel"),
    ("When do I get my refund?", "Refunds are paid within 5 working days after we receive your return, "
     "on the card or account you paid with.", "refund, money back, when, return"),
    ("Which payment methods do you accept?", "Bancontact, iDEAL, Visa, Mastercard, PayPal and "
     "bank transfer.", "payment, pay, bancontact, ideal, visa, paypal"),
    ("Do you have gift cards?", "Yes, digital gift cards from 10 to 250 EUR, valid for two years, in "
     "the shop and online.", "gift card, voucher, present, gift"),
    ("Where are your shops?", "We have 15 shops in Belgium and 9 in the Netherlands. Share your "
     "location and I will find the nearest one.", "shop, store, near, nearest, location, address"),
    ("What are your opening hours?", "Most shops open from 9:00 to 18:00, Monday to Saturday. Some "
     "city-centre shops also open on Sunday afternoon.", "opening hours, open, closed, sunday, hours"),
    ("Which grind should I choose?", "Coarse for French press and cold brew, medium for filter and "
     "pour-over, fine for espresso and moka pots.", "grind, ground, coarse, fine, espresso, filter"),
    ("How should I store coffee beans?", "In an airtight canister, away from light and heat. Not in "
     "the fridge. Use the beans within a month of opening.", "store, storage, fresh, beans, fridge"),
    ("Do you sell decaf?", "Yes: our Decaf Mexico is decaffeinated with the Swiss Water process, "
     "without chemicals.", "decaf, decaffeinated, caffeine"),
    ("Is your coffee fair trade?", "We buy directly from farms and cooperatives and pay well above the "
     "fair-trade minimum price. Each bag names its farm.", "fair trade, organic, sustainable, farm"),
    ("Do you offer a subscription?", "Yes: a bag of fresh beans every 2 or 4 weeks, 10% cheaper, "
     "pause or stop at any time.", "subscription, subscribe, monthly, regular"),
    ("How do I descale my machine?", "Every 2-3 months: run a descaler solution through the machine, "
     "then rinse twice with clean water.", "descale, clean, machine, limescale"),
    ("My machine is broken, what now?", "Equipment has a 2-year warranty. Send us your order number and "
     "a short video of the problem and we will arrange a repair or a replacement.",
     "broken, warranty, repair, defect, machine"),
    ("Do you ship outside Belgium and the Netherlands?", "We also ship to Luxembourg, France and "
     "Germany. Shipping there costs 9.95 EUR, free from 100 EUR.", "abroad, international, france, germany"),
    ("Do you have business accounts?", "Yes, for offices and cafés: invoices with VAT, volume prices and "
     "a monthly delivery. Leave your details and we will call you.", "business, office, b2b, invoice, vat"),
    ("Can I pick up my order in a shop?", "Yes, choose 'pick up in shop' at checkout. Your order is "
     "ready within 2 hours during opening hours.", "pick up, collect, click and collect, shop"),
    ("How do I contact a person?", "Ask me to talk to a person, or call +32 2 808 41 17 on working "
     "days from 9:00 to 17:00.", "contact, human, person, agent, phone, call"),
]


def write(name: str, rows: list[dict[str, object]], columns: list[str]) -> None:
    with open(HERE / name, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    rng = random.Random(SEED)
    catalogue = products(rng)
    write("products.csv", catalogue, list(catalogue[0]))
    sold = orders(rng, catalogue)
    write("orders.csv", sold, list(sold[0]))
    shops = stores(rng)
    write("stores.csv", shops, list(shops[0]))
    write("faq.csv", [dict(zip(("question", "answer", "keywords"), row, strict=True)) for row in FAQ],
          ["question", "answer", "keywords"])
    write("leads.csv", [], ["name", "email", "phone", "interest", "created_at"])
    for name in ("orders.csv", "products.csv", "stores.csv", "faq.csv", "leads.csv", "demo_flow.yaml"):
        shutil.copyfile(HERE / name, PACKAGE_DATA / name)


if __name__ == "__main__":
    main()
