#!/usr/bin/env python3
"""s3-proxy: a fault-injecting HTTP proxy in front of the test RGW (tests only).

    s3-proxy.py --upstream http://127.0.0.1:PORT --port-file F [--tls CERT KEY]
                [--rule KIND:N:ACTION ...] [--log FILE]

Forwards every request unchanged (Host included, so SigV4 signatures still
verify at the RGW) except those a rule matches.  KIND is one of
  create (POST ?uploads)  part (PUT ?partNumber)  put (PUT, single)
  complete (POST ?uploadId)  abort (DELETE ?uploadId)  head  get  list
  multidelete (POST ?delete, DeleteObjects)  versioning (GET ?versioning)  any
N is the Nth request of that kind (1-based) or '*' for every one, and
ACTION is one of
  500 / 503 / 429 / 403 ...   answer that status with an S3 error body
  reset                        read half the body, then reset the connection
  stall                        read the request, then send nothing for 600 s
  error200                     answer 200 with an <Error> body (for complete)
  deny-keys                    answer 200 with a DeleteResult refusing every
                               key (and version id) of the request (for multidelete)
  drop-after=BYTES             forward, but cut the response body after BYTES
  trickle=RATE                 forward, the body in 16 KiB pieces at RATE bytes/s
                               after the first (a slow link, not a late one)
  flip                         forward with one byte of the body changed (the
                               middle one, bits inverted), headers as signed:
                               what a bad NIC, cable or proxy does, which the
                               server must refuse
  empty200 / garbage           answer 200 with an empty body / one that is not XML
  lost200 / lostcut            forward, then answer 200 with an empty body / cut
                               the connection: the answer of a request done is lost
  endless500 / endless200      answer 500 with an <Error> / 200 with a body, chunked,
                               that never ends (about 6 MB/s, until the client goes)
  redirect301                  answer 301 PermanentRedirect, Location with a query
  moved301                     answer 301 PermanentRedirect as AWS does for another
                               region: no Location, an <Endpoint> in the body
  hold=SECONDS                 forward at once, send the reply SECONDS late (S3
                               did it; its answer is on the way)
  hold-until=PATH              forward at once, send the reply once PATH exists
                               (at most 120 s): a test releases it on an event
  delay=SECONDS                forward only after SECONDS, and only if the
                               client is still connected then (the request
                               had not reached S3 when its sender died)
  if-none-match                answer 412 PreconditionFailed when the request
                               has "If-None-Match: *", else forward: what AWS
                               S3 does on a Complete whose key exists (RGW 16
                               ignores the header there)
  absent                       answer 404 to a HEAD of an object, forward one
                               of the bucket (for head): the key looks absent,
                               so a write goes on to what the server says
The port it listens on is written to --port-file once it accepts.  Each
request is logged as "KIND N ACTION" to --log.  Stdlib only, bounded: it
exits by itself after --lifetime seconds (default 900).
"""
import argparse
import http.client
import os
import re
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import serveutil
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ERR = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code>'
       '<Message>injected by s3-proxy</Message></Error>')
CODES = {500: 'InternalError', 503: 'SlowDown', 429: 'TooManyRequests',
         403: 'AccessDenied', 404: 'NoSuchKey', 400: 'InvalidRequest',
         412: 'PreconditionFailed'}


def kind_of(method, path):
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query, keep_blank_values=True)
    if method == 'POST' and 'uploads' in q:
        return 'create'
    if method == 'POST' and 'uploadId' in q:
        return 'complete'
    if method == 'POST' and 'delete' in q:
        return 'multidelete'
    if method == 'GET' and 'versioning' in q:
        return 'versioning'
    if method == 'PUT' and 'partNumber' in q:
        return 'part'
    if method == 'PUT':
        return 'put'
    if method == 'DELETE' and 'uploadId' in q:
        return 'abort'
    if method == 'HEAD':
        return 'head'
    if method == 'GET' and ('uploads' in q or 'list-type' in q or
                            urllib.parse.urlsplit(path).path.count('/') <= 1):
        return 'list'
    if method == 'GET':
        return 'get'
    return method.lower()


class Rules:
    def __init__(self, specs):
        self.rules = []
        for s in specs:
            kind, n, action = s.split(':', 2)
            self.rules.append((kind, n, action))
        self.counts = {}
        self.lock = threading.Lock()

    def match(self, kind):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.counts['any'] = self.counts.get('any', 0) + 1
            for k, n, action in self.rules:
                if k != kind and k != 'any':
                    continue
                c = self.counts[k]
                if n == '*' or int(n) == c:
                    return self.counts[kind], action
            return self.counts[kind], None


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def _body(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def _xml(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Type', 'application/xml')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _error(self, status):
        self._xml(status, (ERR % CODES.get(status, 'InjectedError')).encode())

    def _log(self, kind, n, action):
        if self.server.logfile:
            with open(self.server.logfile, 'a') as f:
                f.write('%s %d %s\n' % (kind, n, action or 'pass'))

    def _client_gone(self):
        try:
            return self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b''
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _handle(self):
        kind = kind_of(self.command, self.path)
        n, action = self.server.rules.match(kind)
        self._log(kind, n, action)
        if action == 'reset':
            want = int(self.headers.get('Content-Length') or 0)
            self.rfile.read(want // 2)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack('ii', 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        body = self._body()
        if action == 'stall':
            time.sleep(600)
            self.close_connection = True
            return
        if action == 'error200':
            self._xml(200, (ERR % 'InternalError').encode())
            return
        if action == 'deny-keys':
            objs = re.findall(rb'<Object>(.*?)</Object>', body, re.S)
            b = (b'<?xml version="1.0" encoding="UTF-8"?><DeleteResult>' +
                 b''.join(b'<Error>' + re.search(rb'<Key>.*?</Key>', o, re.S).group(0) +
                          b''.join(re.findall(rb'<VersionId>.*?</VersionId>', o, re.S)) +
                          b'<Code>AccessDenied</Code>'
                          b'<Message>injected by s3-proxy</Message></Error>' for o in objs) +
                 b'</DeleteResult>')
            self._xml(200, b)
            return
        if action in HOSTILE:
            HOSTILE[action](self, body)
            return
        if action and action.isdigit():
            self._error(int(action))
            return
        if action and action.startswith('delay='):
            time.sleep(float(action.split('=', 1)[1]))
            if self._client_gone():
                self._log(kind, n, 'gone')
                self.close_connection = True
                return
        if action == 'absent' and '/' in urllib.parse.urlsplit(self.path).path.strip('/'):
            self._error(404)
            return
        if action == 'if-none-match' and self.headers.get('If-None-Match') == '*':
            self._error(412)
            return
        if action == 'flip' and body:
            body = bytearray(body)
            body[len(body) // 2] ^= 0xff
            body = bytes(body)
        up = self.server.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        headers = {k: v for k, v in self.headers.items()}
        conn.request(self.command, self.path, body=body if body else None, headers=headers)
        r = conn.getresponse()
        data = r.read()
        if action and action.startswith('hold='):
            time.sleep(float(action.split('=', 1)[1]))
        if action and action.startswith('hold-until='):
            path, end = action.split('=', 1)[1], time.monotonic() + 120
            while not os.path.exists(path) and time.monotonic() < end:
                time.sleep(0.02)
        cut = None
        if action and action.startswith('drop-after='):
            cut = int(action.split('=', 1)[1])
        self.send_response(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() in ('transfer-encoding', 'connection', 'content-length'):
                continue
            self.send_header(k, v)
        length = r.getheader('Content-Length')
        if self.command == 'HEAD' and length is not None:
            self.send_header('Content-Length', length)
        else:
            self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            if action and action.startswith('trickle='):
                pause = 16384 / float(action.split('=', 1)[1])
                for i in range(0, len(data), 16384):
                    if i:
                        time.sleep(pause)
                    self.wfile.write(data[i:i + 16384])
                    self.wfile.flush()
                conn.close()
                return
            if cut is not None and cut < len(data):
                self.wfile.write(data[:cut])
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack('ii', 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    def _done_upstream(self, body):
        """Send the request on and drop the answer: the work is done, unsaid."""
        up = self.server.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        conn.request(self.command, self.path, body=body or None, headers=dict(self.headers))
        conn.getresponse().read()
        conn.close()

    def _reset(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self.close_connection = True
        self.connection.close()

    def _endless(self, status, first, filler):
        self.send_response(status)
        self.send_header('Content-Type', 'application/xml')
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        self.close_connection = True
        if self.command == 'HEAD':
            return
        try:
            chunk = first
            while True:
                self.wfile.write(b'%x\r\n%s\r\n' % (len(chunk), chunk))
                self.wfile.flush()
                chunk = filler
                time.sleep(0.01)
        except OSError:
            pass

    def _redirect(self):
        path = urllib.parse.urlsplit(self.path).path
        self._xml(301, (ERR % 'PermanentRedirect').encode(),
                  [('Location', 'http://127.0.0.1:9%s?X-Amz-Signature=s3cr3t&x=1' % path)])


def _lost200(h, body):
    h._done_upstream(body)
    h._xml(200, b'')


def _lostcut(h, body):
    h._done_upstream(body)
    h._reset()


MOVED = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code>'
         '<Message>The bucket you are attempting to access must be addressed using the '
         'specified endpoint.</Message><Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint>'
         '</Error>')

HOSTILE = {
    'empty200': lambda h, body: h._xml(200, b''),
    'garbage': lambda h, body: h._xml(200, b'<html>502 Bad Gateway, but as a 200'),
    'lost200': _lost200,
    'lostcut': _lostcut,
    'endless500': lambda h, body: h._endless(500, (ERR % 'InternalError').encode()[:-20],
                                             b'x' * 65536),
    'endless200': lambda h, body: h._endless(200, b'\0' * 65536, b'\0' * 65536),
    'redirect301': lambda h, body: h._redirect(),
    'moved301': lambda h, body: h._xml(301, MOVED.encode()),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--upstream', required=True)
    ap.add_argument('--port-file', required=True)
    ap.add_argument('--rule', action='append', default=[])
    ap.add_argument('--tls', nargs=2, metavar=('CERT', 'KEY'))
    ap.add_argument('--log')
    ap.add_argument('--lifetime', type=float, default=900)
    a = ap.parse_args()
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    srv.upstream = urllib.parse.urlsplit(a.upstream)
    srv.rules = Rules(a.rule)
    srv.logfile = a.log
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    serveutil.serve(srv, a.lifetime, a.port_file)


if __name__ == '__main__':
    main()
