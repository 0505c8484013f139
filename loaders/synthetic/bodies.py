"""Request and response bodies per endpoint, assembled as JSON text.

Strings are escaped by the C encoder and spliced into fixed JSON, because `json.dumps` on nested dicts per record
would dominate the generator's cost. Each endpoint fills in `out` (the raw record) for one request.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from json.encoder import encode_basestring  # the C string escaper: quotes, escapes, keeps non-ASCII as is
from typing import Any

from loaders.synthetic.banks import TRANSLATE
from loaders.synthetic.constants import CONTENT_PARTS_RATE, LONG_BODY_RATE, MULTI_TURN_RATE, SYSTEM_MESSAGE_RATE
from loaders.synthetic.draw import between, uniform
from loaders.synthetic.record import Record
from loaders.synthetic.slots import render
from loaders.synthetic.text import answer_text, long_document, rare_phrase, tokens, user_text

_ALNUM = str.maketrans("+/", "Zq")


def chat(r: Record, out: dict[str, Any], created: int, streamed: bool) -> None:
    rng = r.rng
    model = r.pools.chat_models.pick(rng)
    messages: list[str] = []
    chars = 0
    if rng.random() < SYSTEM_MESSAGE_RATE:
        system = render(r, r.task.systems)
        messages.append('{"role":"system","content":' + encode_basestring(system) + "}")
        chars += len(system)
    question = user_text(r)
    if r.task.followups and rng.random() < MULTI_TURN_RATE:
        earlier = answer_text(r)
        messages.append(_user_message(r, question))
        messages.append('{"role":"assistant","content":' + encode_basestring(earlier) + "}")
        chars += len(question) + len(earlier)
        question = render(r, r.task.followups)
        answer = render(r, r.task.followup_answers)
    else:
        answer = answer_text(r)
    messages.append(_user_message(r, question))
    chars += len(question)
    body = '{"model":' + encode_basestring(model) + ',"messages":[' + ",".join(messages) + "]"
    body += _sampling_parameters(r, streamed)
    out["url"] = "/v1/chat/completions"
    out["model"] = model
    out["request_body"] = body + "}"
    answer = _answer(r, out, model, answer, 3 + 4 * len(messages) + tokens(r, chars))
    openai_id = out["openai_id"] = "chatcmpl-" + _alnum(r.rng)
    snapshot = encode_basestring(r.pools.traffic.snapshots.get(model, model))
    if streamed:
        chunk = f'data: {{"id":"{openai_id}","object":"chat.completion.chunk","created":{created},"model":{snapshot},"choices":[{{"index":0,"delta":'
        first = chunk + '{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
        last = chunk + '{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
        tail = '},"finish_reason":null}]}\n\n'
        out["streamed_response_body"] = _sse(r, answer, chunk + '{"content":', tail, first, last)
    else:
        out["response_body"] = (
            f'{{"id":"{openai_id}","object":"chat.completion","created":{created},"model":{snapshot},'
            f'"choices":[{{"index":0,"message":{{"role":"assistant","content":{encode_basestring(answer)},"refusal":null}},'
            f'"logprobs":null,"finish_reason":"stop"}}],{_usage(out)}}}'
        )


def _user_message(r: Record, text: str) -> str:
    rng = r.rng
    if rng.random() >= CONTENT_PARTS_RATE:
        return '{"role":"user","content":' + encode_basestring(text) + "}"
    parts = '[{"type":"text","text":' + encode_basestring(text) + "}"
    if rng.random() < 0.3:
        parts += f',{{"type":"image_url","image_url":{{"url":"https://cdn.example.com/uploads/{rng.getrandbits(48):012x}.png"}}}}'
    return '{"role":"user","content":' + parts + "]}"


def _sampling_parameters(r: Record, streamed: bool) -> str:
    rng = r.rng
    traffic = r.pools.traffic
    text = ""
    if rng.random() < 0.6:
        text += ',"temperature":' + uniform(rng, traffic.temperatures)
    if rng.random() < 0.2:
        text += ',"max_tokens":' + uniform(rng, traffic.max_tokens)
    if r.user is not None and rng.random() < 0.15:
        text += ',"user":' + encode_basestring(r.user.id)
    if streamed:
        text += ',"stream":true'
    return text


def _answer(r: Record, out: dict[str, Any], model: str, answer: str, prompt_tokens: int) -> str:
    """Records the completion (returned: now and then a long one) and the token counts; reasoning models bill
    their hidden reasoning as completion tokens."""
    rng = r.rng
    if rng.random() < LONG_BODY_RATE / 4:
        answer += "\n\n" + long_document(r)
    completion_language = r.target if r.task.name == TRANSLATE else None
    completion_tokens = tokens(r, len(answer), completion_language)
    if model in r.pools.traffic.reasoning_models:
        completion_tokens += between(rng, 64, 4096)
    out["completion"] = answer
    out["prompt_tokens"] = prompt_tokens
    out["completion_tokens"] = completion_tokens
    return answer


def _usage(out: dict[str, Any]) -> str:
    prompt, completion = out["prompt_tokens"], out["completion_tokens"]
    return f'"usage":{{"prompt_tokens":{prompt},"completion_tokens":{completion},"total_tokens":{prompt + completion}}}'


def _sse(r: Record, text: str, head: str, tail: str, first: str = "", last: str = "data: [DONE]\n\n") -> str:
    """Server-sent events as the proxy captured the stream: `head + "<piece as JSON>" + tail` per piece of text."""
    # Pieces of a few tokens, but not more than ~48 events however long the text.
    size = max(4 if r.language.bank.joiner == "" else 16, len(text) // 48 + 1)
    pieces = (head + encode_basestring(text[start : start + size]) + tail for start in range(0, len(text), size))
    return first + "".join(pieces) + last


def completions(r: Record, out: dict[str, Any], created: int, streamed: bool) -> None:
    rng = r.rng
    model = r.pools.completion_models.pick(rng)
    prompt = user_text(r) + "\n\n"
    answer = answer_text(r)
    out["url"] = "/v1/completions"
    out["model"] = model
    out["request_body"] = (
        '{"model":'
        + encode_basestring(model)
        + ',"prompt":'
        + encode_basestring(prompt)
        + _sampling_parameters(r, streamed)
        + "}"
    )
    answer = _answer(r, out, model, answer, tokens(r, len(prompt)))
    openai_id = out["openai_id"] = "cmpl-" + _alnum(rng)
    if streamed:
        head = f'data: {{"id":"{openai_id}","object":"text_completion","created":{created},"model":"{model}","choices":[{{"text":'
        out["streamed_response_body"] = _sse(r, answer, head, ',"index":0,"logprobs":null,"finish_reason":null}]}\n\n')
    else:
        out["response_body"] = (
            f'{{"id":"{openai_id}","object":"text_completion","created":{created},"model":"{model}",'
            f'"choices":[{{"text":{encode_basestring(answer)},"index":0,"logprobs":null,"finish_reason":"stop"}}],{_usage(out)}}}'
        )


def responses(r: Record, out: dict[str, Any], created: int, streamed: bool) -> None:
    rng = r.rng
    model = r.pools.responses_models.pick(rng)
    text = user_text(r)
    answer = answer_text(r)
    chars = len(text)
    if rng.random() < 0.5:
        body = '{"model":' + encode_basestring(model) + ',"input":' + encode_basestring(text)
    else:
        body = (
            '{"model":'
            + encode_basestring(model)
            + ',"input":[{"role":"user","content":'
            + encode_basestring(text)
            + "}]"
        )
    if rng.random() < SYSTEM_MESSAGE_RATE:
        instructions = render(r, r.task.systems)
        body += ',"instructions":' + encode_basestring(instructions)
        chars += len(instructions)
    out["url"] = "/v1/responses"
    out["model"] = model
    out["request_body"] = body + (',"stream":true}' if streamed else "}")
    answer = _answer(r, out, model, answer, 8 + tokens(r, chars))
    openai_id = out["openai_id"] = f"resp_{rng.getrandbits(192):048x}"
    message_id = f"msg_{rng.getrandbits(192):048x}"
    if streamed:
        head = f'event: response.output_text.delta\ndata: {{"type":"response.output_text.delta","item_id":"{message_id}","output_index":0,"content_index":0,"delta":'
        done = f'event: response.completed\ndata: {{"type":"response.completed","response":{{"id":"{openai_id}","status":"completed"}}}}\n\n'
        out["streamed_response_body"] = _sse(r, answer, head, "}\n\n", last=done)
        return
    prompt_tokens, completion_tokens = out["prompt_tokens"], out["completion_tokens"]
    reasoning = (
        f'{{"type":"reasoning","id":"rs_{rng.getrandbits(96):024x}","summary":[]}},'
        if model in r.pools.traffic.reasoning_models
        else ""
    )
    snapshot = r.pools.traffic.snapshots.get(model, model)
    out["response_body"] = (
        f'{{"id":"{openai_id}","object":"response","created_at":{created},"status":"completed","model":"{snapshot}",'
        f'"output":[{reasoning}{{"type":"message","id":"{message_id}","status":"completed","role":"assistant",'
        f'"content":[{{"type":"output_text","text":{encode_basestring(answer)},"annotations":[]}}]}}],'
        f'"usage":{{"input_tokens":{prompt_tokens},"output_tokens":{completion_tokens},"total_tokens":{prompt_tokens + completion_tokens}}}}}'
    )


def embeddings(r: Record, out: dict[str, Any], created: int, streamed: bool) -> None:
    rng = r.rng
    model = r.pools.embedding_models.pick(rng)
    single = rng.random() < 0.6
    if single:
        inputs = [user_text(r) if rng.random() < 0.3 else r.sentences(1, 6)]
    else:
        inputs = [r.sentences(1, 3) for _ in range(between(rng, 2, 16))]
    inputs[0] += rare_phrase(r)
    if single:
        input_json = encode_basestring(inputs[0])
    else:
        input_json = "[" + ",".join(encode_basestring(text) for text in inputs) + "]"
    count = tokens(r, sum(len(text) for text in inputs))
    data = ",".join(
        f'{{"object":"embedding","index":{k},"embedding":{uniform(rng, r.pools.vectors)}}}' for k in range(len(inputs))
    )
    out["url"] = "/v1/embeddings"
    out["model"] = model
    out["request_body"] = '{"model":' + encode_basestring(model) + ',"input":' + input_json + "}"
    out["response_body"] = (
        f'{{"object":"list","data":[{data}],"model":"{model}","usage":{{"prompt_tokens":{count},"total_tokens":{count}}}}}'
    )
    out["prompt_tokens"] = count  # embeddings report no completion tokens at all


# Each fills in `out` for one request to its endpoint: (record, out, created epoch seconds, streamed).
ENDPOINTS: dict[str, Callable[[Record, dict[str, Any], int, bool], None]] = {
    "chat": chat,
    "completions": completions,
    "responses": responses,
    "embeddings": embeddings,
}


def _alnum(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(24)).decode().translate(_ALNUM)[:29]
