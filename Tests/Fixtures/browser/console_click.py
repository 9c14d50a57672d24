#!/usr/bin/env python3
"""Drives spindled's web console in a real headless Chromium over the DevTools protocol.

Opens the console, waits until its live updates run, checks that PROGRAM shows RUNNING, clicks
the Stop link of its row with real mouse events, waits until the row shows STOPPED without the
page reloading, and saves a screenshot. Only the standard library is used (the DevTools
websocket is spoken here), so nothing but Debian's chromium package is needed.

Prints one JSON object on standard output. Exit status: 0 when every step held, 1 when a step
failed (the JSON says which), 3 when no Chromium is installed.
"""

import argparse
import base64
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class DevTools:
    """A minimal websocket client (RFC 6455, client side) speaking the DevTools protocol."""

    def __init__(self, host, port, path):
        self.sock = socket.create_connection((host, port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("DevTools closed the websocket handshake")
            head += chunk
        status_line = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status_line:
            raise RuntimeError(f"DevTools refused the websocket: {status_line!r}")
        self.buffer = head.split(b"\r\n\r\n", 1)[1]
        self.next_id = 0

    def _read(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("DevTools closed the websocket")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _send(self, text):
        payload = text.encode()
        header = bytearray([0x81])
        if len(payload) < 126:
            header.append(0x80 | len(payload))
        elif len(payload) < 65536:
            header.append(0x80 | 126)
            header += struct.pack("!H", len(payload))
        else:
            header.append(0x80 | 127)
            header += struct.pack("!Q", len(payload))
        mask = os.urandom(4)
        header += mask
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes(header) + masked)

    def _receive(self):
        message = b""
        while True:
            first, second = self._read(2)
            opcode = first & 0x0F
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read(8))
            mask = self._read(4) if second & 0x80 else None
            data = self._read(length)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if opcode == 0x8:
                raise RuntimeError("DevTools closed the websocket")
            if opcode == 0x9:  # ping: answer it
                continue
            if opcode in (0x0, 0x1, 0x2):
                message += data
                if first & 0x80:
                    return json.loads(message.decode())

    def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        self._send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            reply = self._receive()
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what} (last seen: {last!r})")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="the console, e.g. http://127.0.0.1:9001/")
    parser.add_argument("--program", required=True, help="the RUNNING program whose Stop link is clicked")
    parser.add_argument("--screenshot", required=True, help="where the PNG goes")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    report = {"step": "find chromium"}
    chromium = find_chromium()
    if chromium is None:
        report["error"] = "no Chromium found on PATH (chromium, chromium-browser, google-chrome): install it with `apt-get install -y chromium`, as scripts/test does"
        print(json.dumps(report))
        return 3
    report["chromium"] = chromium

    profile = tempfile.mkdtemp(prefix="spindle-chromium-")
    log_path = os.path.join(profile, "chromium.log")
    browser = None
    devtools = None
    try:
        report["step"] = "start chromium"
        browser = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", f"--user-data-dir={profile}",
             "--window-size=1200,700", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(log_path, "wb"))
        port_file = os.path.join(profile, "DevToolsActivePort")

        def port_ready():
            if browser.poll() is not None:
                raise RuntimeError("chromium exited at start: " + open(log_path, errors="replace").read()[-2000:])
            if os.path.exists(port_file):
                lines = open(port_file).read().split("\n")
                if len(lines) >= 2 and lines[0].strip():
                    return int(lines[0])
            return None

        port = wait_for(port_ready, args.timeout, "Chromium's DevTools port")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/json/list")
        targets = json.loads(connection.getresponse().read())
        page = next(t for t in targets if t.get("type") == "page")
        ws_path = "/" + page["webSocketDebuggerUrl"].split("/", 3)[3]
        devtools = DevTools("127.0.0.1", port, ws_path)
        devtools.call("Page.enable")
        devtools.call("Runtime.enable")
        if args.username is not None:
            token = base64.b64encode(f"{args.username}:{args.password or ''}".encode()).decode()
            devtools.call("Network.enable")
            devtools.call("Network.setExtraHTTPHeaders", headers={"Authorization": "Basic " + token})

        report["step"] = "open the console"
        devtools.call("Page.navigate", url=args.url)
        wait_for(lambda: devtools.evaluate(
            "document.readyState === 'complete' && !!document.getElementById('live') && "
            "document.getElementById('live').className === 'live-ok'"), args.timeout, "the console's live updates")
        row = json.dumps(f'tr[data-name="{args.program}"]')
        state_js = f"(function () {{ var s = document.querySelector({row} + ' td.state span'); return s ? s.textContent : null; }})()"
        report["title"] = devtools.evaluate("document.title")
        report["before"] = wait_for(lambda: devtools.evaluate(state_js) == "running" and "running", args.timeout,
                                    f"{args.program} to show running")
        devtools.evaluate("window.spindleMarker = 'same page'; true")

        report["step"] = "click Stop"
        box = devtools.evaluate(
            f"(function () {{ var a = document.querySelector({row} + ' a[data-action=\"stop\"]');"
            " if (!a) return null; a.scrollIntoView(); var r = a.getBoundingClientRect();"
            " return {x: r.left + r.width / 2, y: r.top + r.height / 2, text: a.textContent}; })()")
        if not box:
            raise RuntimeError(f"no Stop link in the row of {args.program}")
        report["clicked"] = box["text"]
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            devtools.call("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1)

        report["step"] = "see the state change"
        report["after"] = wait_for(lambda: (lambda s: s if s == "stopped" else None)(devtools.evaluate(state_js)),
                                   args.timeout, f"{args.program} to show stopped")
        report["message"] = wait_for(lambda: devtools.evaluate(
            "(function () { var m = document.getElementById('statusmessage'); return m && m.textContent.indexOf('stopped') >= 0 ? m.textContent : null; })()"),
            args.timeout, "the action's message")
        report["reloaded"] = devtools.evaluate("window.spindleMarker !== 'same page'")
        report["rows"] = devtools.evaluate(
            "Array.prototype.map.call(document.querySelectorAll('#tbody tr'), function (tr) {"
            " return tr.getAttribute('data-name') + '=' + tr.querySelector('td.state span').textContent; })")

        report["step"] = "screenshot"
        shot = devtools.call("Page.captureScreenshot", format="png")
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        with open(args.screenshot, "wb") as out:
            out.write(base64.b64decode(shot["data"]))
        report["screenshot"] = os.path.abspath(args.screenshot)
        report["step"] = "done"
        ok = not report["reloaded"]
        if not ok:
            report["error"] = "the page reloaded: the state change came from a new page, not a live update"
        print(json.dumps(report))
        return 0 if ok else 1
    except Exception as error:  # every failure is reported with the step it happened in
        report["error"] = f"{type(error).__name__}: {error}"
        print(json.dumps(report))
        return 1
    finally:
        if devtools is not None:
            try:
                devtools.call("Browser.close")
            except Exception:
                pass
            devtools.close()
        if browser is not None:
            try:
                browser.wait(timeout=10)
            except subprocess.TimeoutExpired:
                browser.kill()
                browser.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
