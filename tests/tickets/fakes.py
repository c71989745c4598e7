"""Stand-ins for the FAQ as the tickets service reaches it over HTTP (through ``responses``).

Their answers are built to the FAQ's committed contract, and the tests check that they conform.
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlsplit

import requests
import responses

from contracts.validation import Contract

FAQ_API = "http://faq.test"
FAQ_KEY = "sy_tickets-service-test-key"
STAMP = "2026-11-21T10:00:00Z"
JSON = "application/json"
PROBLEM = "application/problem+json"


def faq_entry(version: str, entry_id: int, payload: dict) -> dict:
    """The entry ``faq_create`` answers with, in each version's shape."""
    if version == "v1":
        return {
            "id": entry_id,
            "question": payload["question"],
            "answer": payload.get("answer", ""),
            "source": payload["source"],
            "created": STAMP,
            "updated": STAMP,
        }
    source = payload["source"]
    return {
        "id": entry_id,
        "question": payload["question"],
        "answer": payload.get("answer", ""),
        "answered": bool(payload.get("answer", "").strip()),
        "source": {"kind": source["kind"], "ref": source.get("ref"), "url": source.get("url")},
        "related": sorted(payload.get("related", [])),
        "created_at": STAMP,
        "updated_at": STAMP,
    }


def path_of(request) -> str:
    return urlsplit(request.url).path


def sent_json(request) -> dict:
    return json.loads(request.body)


def request_errors(contract: Contract, request) -> list[str]:
    """What in a request the tickets service sent breaks the provider's contract."""
    return contract.request_errors(
        request.method,
        path_of(request),
        body=request.body,
        content_type=request.headers.get("Content-Type", ""),
        headers=dict(request.headers),
    )


class FakeFaq:
    """``faq_create`` with the FAQ's Idempotency-Key semantics: the first request with a key
    creates an entry, any later one with the same key replays that answer.

    ``lose`` answers are lost on the way back *after* the entry was created (the client sees a
    connection error); ``delay`` seconds pass before each answer (to make callers overlap).
    """

    def __init__(self, mock: responses.RequestsMock, version: str, *, lose=0, delay=0.0):
        self.version = version
        self.lose = lose
        self.delay = delay
        self.entries: dict[int, dict] = {}
        self.answers: dict[str, dict] = {}
        self.requests: list = []
        self._lock = threading.Lock()
        self._next_id = 41
        mock.add_callback(
            responses.POST, f"{FAQ_API}/{version}/faqs", callback=self.create, content_type=JSON
        )

    def create(self, request):
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.requests.append(request)
            key = request.headers["Idempotency-Key"]
            headers = {}
            if key in self.answers:
                headers["Idempotent-Replayed"] = "true"
            else:
                entry = faq_entry(self.version, self._next_id, sent_json(request))
                self.entries[entry["id"]] = entry
                self.answers[key] = entry
                self._next_id += 1
            body = self.answers[key]
            headers["Location"] = f"/{self.version}/faqs/{body['id']}"
            if self.lose:
                self.lose -= 1
                return requests.ConnectionError("Connection reset by peer")
        return 201, headers, json.dumps(body)

    def keys(self) -> list[str]:
        return [request.headers["Idempotency-Key"] for request in self.requests]
