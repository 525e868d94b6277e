"""Bodies as real Chatlayer clients and backends send or read them (contract section 8), kept literal so
the tests that use them check the toolkit against the platform, not against our own emulator.

Each constant names its source. Where a source shows only part of a body (e.g. that an event has
``message.type == "event"``), the rest is filled with the outbound envelope the same source reads
(``senderId``, ``verifyToken``) and the comment says so. ``VERIFY`` stands for the channel's token.
"""

from __future__ import annotations

VERIFY = "chatlayer-generated-verify-token"

# 8.1 [EX] chatlayer-examples Chatlayer-Webhook-Integration-With-Discord/index.js and [BOTIUM] index.js:
# both skip bodies whose message.type is "event" (the rest of an event is not shown by either source).
EVENT_BODY = {"senderId": "discord-user-1", "verifyToken": VERIFY,
              "message": {"type": "event", "event": "typing_on"}}

# 8.9 [DOC] chat-message-structure-for-apis: outbound bodies carry messageCounter; [BOTIUM] reads an
# nlp member (nlp.intent.{name, score}); button types include element_share.
TEXT_WITH_EXTRAS = {"recipient": {"id": "user-9"}, "senderId": "user-9", "verifyToken": VERIFY,
                    "messageCounter": 3,
                    "nlp": {"intent": {"name": "order_status", "score": 0.93}, "entities": []},
                    "message": {"text": "Your order is on its way."}}
ELEMENT_SHARE_CARD = {
    "recipient": {"id": "user-9"}, "senderId": "user-9", "verifyToken": VERIFY, "messageCounter": 4,
    "message": {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": [
        {"title": "Bike A", "subtitle": "499 EUR", "image_url": "https://example.com/a.jpg",
         "item_url": "https://example.com/a",
         "buttons": [{"type": "element_share"},
                     {"type": "postback", "title": "Choose",
                      "payload": '{"nextDialogstateId":"b-choose"}'}]}]}}},
}
# 8.9 [DOC]: attachment types are documented as image / video; [BOTIUM] skips any other type.
UNKNOWN_ATTACHMENT = {"senderId": "user-9", "verifyToken": VERIFY,
                      "message": {"attachment": {"type": "fallback", "payload": {"title": "?"}}}}

# 8.6 [DOC] chat-message-structure-for-apis: an outbound list is template_type "list" with elements and
# top-level buttons; [BOTIUM] reads "list" like "generic".
LIST_TEMPLATE = {
    "recipient": {"id": "user-9"}, "senderId": "user-9", "verifyToken": VERIFY, "messageCounter": 5,
    "message": {"attachment": {"type": "template", "payload": {
        "template_type": "list",
        "elements": [{"title": "Classic T-Shirt", "subtitle": "100% cotton",
                      "image_url": "https://example.com/shirt.png",
                      "buttons": [{"type": "web_url", "title": "View", "url": "https://example.com/shirt"}]},
                     {"title": "Hoodie", "subtitle": "Warm",
                      "buttons": [{"type": "postback", "title": "Buy",
                                   "payload": '{"nextDialogstateId":"buy","parameters":[{"key":"item",'
                                              '"value":"hoodie"}]}'}]}],
        "buttons": [{"type": "postback", "title": "View more",
                     "payload": '{"nextDialogstateId":"more"}'}]}}},
}

# 8.6 [DOC]: generic template cards carry their link in item_url (a 2019 history sample: default_action).
ITEM_URL_CARD = {
    "recipient": {"id": "user-9"}, "senderId": "user-9", "verifyToken": VERIFY,
    "message": {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": [
        {"title": "Bike A", "subtitle": "499 EUR", "image_url": "https://example.com/a.jpg",
         "item_url": "https://example.com/a", "buttons": []}]}}},
}
DEFAULT_ACTION_CARD = {
    "recipient": {"id": "user-9"}, "senderId": "user-9", "verifyToken": VERIFY,
    "message": {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": [
        {"title": "Bike B", "default_action": {"type": "web_url", "url": "https://example.com/b"},
         "buttons": []}]}}},
}

# 8.3 [BOTIUM] HEAD index.js: POST /v1/channels/webhook/{channelId}/messages with conversationId and
# no user; sessionData when configured.
CONVERSATION_ID_INTRO = {"conversationId": "botium-conv-1", "message": {"introMessage": {}}}
CONVERSATION_ID_TEXT = {"conversationId": "botium-conv-1", "message": {"textMessage": {"text": "Where is my order?"}},
                        "sessionData": {"address.zipCode": "2000"}}

# 8.4 [BOTIUM] HEAD index.js: a click is postbackMessage {title, nextDialogstateId, sessionDataToSet},
# the last two parsed from the button's payload (its nextDialogstateId and parameters).
BOTIUM_POSTBACK = {"conversationId": "botium-conv-1",
                   "message": {"postbackMessage": {"title": "Browse products", "nextDialogstateId": "pick_category",
                                                   "sessionDataToSet": [{"key": "lead.source", "value": "botium"}]}}}

# 8.11 the Redoc's user and [EX] Discord index.js's body (user with the four fields, sessionData).
DISCORD_TEXT = {"message": {"textMessage": {"text": "hello"}},
                "user": {"id": "discord-user-1", "firstName": "John", "lastName": "Doe", "preferredLanguage": "en"},
                "sessionData": {"email": "support@chatlayer.ai", "address.zipCode": "2000"}}

# 8.2 NLP extract: [BOTIUM] reads extract.intents[] of {intent, score} and entities of
# {name, value, score, startIndex, endIndex, systemEntity}; [DOC] chatlayer-api/webhook-api.md wraps it
# as {data: {extract: {score, intent, query, intents, entities}}}.
NLP_EXTRACT = {"extract": {"query": "I want a large pizza", "language": "en", "intent": "order_pizza",
                           "score": 0.97,
                           "intents": [{"intent": "order_pizza", "score": 0.97}, {"intent": "greeting", "score": 0.02}],
                           "entities": [{"name": "size", "value": "large", "score": 1, "startIndex": 9,
                                         "endIndex": 14, "systemEntity": False}]}}
NLP_EXTRACT_LEGACY = {"data": NLP_EXTRACT}

# 8.5 [EX] chatlayer-examples offloading-webhook/messaging.js createListTemplateMessage (verbatim).
V1_LIST_TEMPLATE = {"listTemplate": {
    "size": "LARGE",
    "button": {"urlButton": {"title": "Visit the docs", "url": "https://docs.chatlayer.ai"}},
    "elements": [
        {"button": {"urlButton": {"title": "Visit the docs", "url": "https://docs.chatlayer.ai"}},
         "imageUrl": "https://via.placeholder.com/400", "title": "Visit Chatlayer.ai Docs",
         "subTitle": "This is a subTitle"},
        {"button": {"urlButton": {"title": "Visit the website", "url": "https://chatlayer.ai"}},
         "imageUrl": "https://via.placeholder.com/400", "title": "Visit Chatlayer.ai Website"}]}}

# 8.7 [PD] pipedream chatlayer.app.mjs consumes GET /v1/bots as a bare array of {id, name}.
BOTS_BARE = [{"id": "bot-1", "name": "Pizza bot"}]
BOTS_WRAPPED = {"data": [{"id": "bot-1", "name": "Pizza bot"}]}

# 8.12 replies real backends send in production (the 44 real cases).
REPLY_EMPTY_ACTION = {"action": {}}
REPLY_NULL_SESSION = {"session": None, "messages": [{"type": "text", "config": {"textMessages": [{"text": "Hi"}]}}]}
REPLY_SESSION_NO_NAMESPACE = {"session": {"data": {"status": "shipped"}}}
REPLY_NULL_TEXT = {"messages": [{"type": "text", "config": {"textMessages": [{"text": None}]}}]}
REPLY_EMPTY_BODY = b""
REPLY_CALL_BUTTON = {"messages": [{"type": "buttons", "config": {
    "textMessages": [{"text": "Need help?"}],
    "buttons": [{"type": "call", "title": "Call us", "payload": "+3220000000"}]}}]}
REPLY_BLOCK_NAME = {"action": {"nextDialogstate": "Order found"}}  # an early demo redirected by name
