"""A stand-in for the official ``openai`` package, which cannot be installed on these machines.

It offers the part of the SDK that the docs' Python examples use --
``OpenAI(api_key=..., base_url=...).chat.completions.create(**params)``, whole or streamed, and
``.responses.create(**params)``, ``.responses.retrieve(id)`` and ``.responses.delete(id)`` -- and
sends the request the real SDK sends: ``POST {base_url}/chat/completions`` (or ``/responses``) with
the keyword arguments as the JSON body, ``GET``/``DELETE {base_url}/responses/{id}``, and the key as
a bearer token. Replies are read with attribute access, as the SDK's models are (a
missing field reads as None), and can be sent back in ``messages``; a Response has the SDK's
``output_text``, its messages' text joined.
"""

import json
import urllib.error
import urllib.request

__all__ = ["APIError", "OpenAI"]


class APIError(Exception):
    def __init__(self, status_code, body):
        super().__init__(f"HTTP {status_code}: {body}")
        self.status_code = status_code
        self.body = body


class _Object(dict):
    """A JSON object whose fields read as attributes."""

    def __getattr__(self, name):
        return self.get(name)


def _wrap(value):
    if isinstance(value, dict):
        return _Object({key: _wrap(item) for key, item in value.items()})
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    return value


class _Completions:
    path = "/chat/completions"

    def __init__(self, client):
        self._client = client

    def create(self, **params):
        response = self._send("POST", self.path, params)
        if params.get("stream"):
            return _events(response)
        with response:
            return self._reply(_wrap(json.load(response)))

    def _send(self, method, path, params=None):
        headers = {"Authorization": f"Bearer {self._client.api_key}"}
        if params is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self._client.base_url.rstrip("/") + path,
            data=None if params is None else json.dumps(params).encode("utf-8"),
            headers=headers,
            method=method,
        )
        try:
            return urllib.request.urlopen(request, timeout=120)
        except urllib.error.HTTPError as error:
            raise APIError(error.code, error.read().decode("utf-8")) from None

    def _reply(self, body):
        return body


class _Responses(_Completions):
    path = "/responses"

    def retrieve(self, response_id):
        with self._send("GET", f"{self.path}/{response_id}") as response:
            return self._reply(_wrap(json.load(response)))

    def delete(self, response_id):
        with self._send("DELETE", f"{self.path}/{response_id}") as response:
            return _wrap(json.load(response))

    def _reply(self, body):
        body["output_text"] = "".join(
            part.text
            for item in body.output or []
            if item.type == "message"
            for part in item.content or []
            if part.type == "output_text"
        )
        return body


def _events(response):
    with response:
        for raw in response:
            line = raw.decode("utf-8").rstrip("\r\n")
            if not line.startswith("data: "):
                continue  # blank separators and ": keep-alive" comments
            data = line[len("data: "):]
            if data == "[DONE]":
                return
            event = json.loads(data)
            if "error" in event or event.get("type") == "error":
                raise APIError(200, data)
            yield _wrap(event)


class _Chat:
    def __init__(self, client):
        self.completions = _Completions(client)


class OpenAI:
    def __init__(self, api_key=None, base_url=None):
        if not api_key or not base_url:
            raise ValueError("api_key and base_url are required")
        self.api_key = api_key
        self.base_url = base_url
        self.chat = _Chat(self)
        self.responses = _Responses(self)
