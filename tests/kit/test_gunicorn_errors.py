"""The services' sync and gthread workers answer their own refusals as problems, not HTML."""

import json

from gunicorn import util

from services.kit import gunicorn_errors


class FakeSocket:
    def __init__(self):
        self.sent = b""

    def gettimeout(self):
        return 0.0

    def sendall(self, data):
        self.sent += data

    def send(self, data):
        self.sent += data
        return len(data)


def test_a_refused_request_line_is_a_problem_that_quotes_nothing(monkeypatch):
    monkeypatch.setattr(util, "write_error", util.write_error)
    assert gunicorn_errors.install_sync() is True
    assert gunicorn_errors.install_sync() is True  # twice is once
    sock = FakeSocket()

    util.write_error(sock, 414, "URI Too Long", "Request line length (4346) exceeds limit (4094)")

    head, _, body = sock.sent.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "HTTP/1.1 414 Request-URI Too Long"
    assert "Content-Type: application/problem+json" in lines
    problem = json.loads(body)
    assert problem["status"] == 414
    assert problem["detail"] == "The request line is too long."
    assert f"X-Request-ID: {problem['request_id']}" in lines
    assert b"4346" not in sock.sent and b"<html>" not in sock.sent
