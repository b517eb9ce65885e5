"""A stand-in for the official ``anthropic`` package, which cannot be installed on these machines.

It offers the part of the SDK that the docs' Python examples use --
``Anthropic(api_key=..., base_url=...).messages.create(**params)`` -- and sends the request the real
SDK sends: ``POST {base_url}/v1/messages`` with the keyword arguments as the JSON body, the key as
``x-api-key`` and ``anthropic-version``. Replies are read with attribute access, as the SDK's models are.
"""

import json
import urllib.error
import urllib.request

__all__ = ["APIStatusError", "Anthropic"]


class APIStatusError(Exception):
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


class _Messages:
    def __init__(self, client):
        self._client = client

    def create(self, **params):
        request = urllib.request.Request(
            self._client.base_url.rstrip("/") + "/v1/messages",
            data=json.dumps(params).encode("utf-8"),
            headers={
                "x-api-key": self._client.api_key,
                "anthropic-version": "2023-06-01",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        try:
            response = urllib.request.urlopen(request, timeout=120)
        except urllib.error.HTTPError as error:
            raise APIStatusError(error.code, error.read().decode("utf-8")) from None
        with response:
            return _wrap(json.load(response))


class Anthropic:
    def __init__(self, api_key=None, base_url=None):
        self.api_key = api_key
        self.base_url = base_url
        self.messages = _Messages(self)
