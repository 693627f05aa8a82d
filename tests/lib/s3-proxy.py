#!/usr/bin/env python3
"""s3-proxy: a fault-injecting HTTP proxy in front of the test RGW (tests only).

    s3-proxy.py --upstream http://127.0.0.1:PORT --port-file F [--tls CERT KEY]
                [--rule KIND:N:ACTION ...] [--log FILE]

Forwards every request unchanged (Host included, so SigV4 signatures still
verify at the RGW) except those a rule matches.  KIND is one of
  create (POST ?uploads)  part (PUT ?partNumber)  put (PUT, single)
  complete (POST ?uploadId)  abort (DELETE ?uploadId)  head  get  list
  multidelete (POST ?delete, DeleteObjects)  any
N is the Nth request of that kind (1-based) or '*' for every one, and
ACTION is one of
  500 / 503 / 429 / 403 ...   answer that status with an S3 error body
  reset                        read half the body, then reset the connection
  stall                        read the request, then send nothing for 600 s
  error200                     answer 200 with an <Error> body (for complete)
  deny-keys                    answer 200 with a DeleteResult refusing every
                               key of the request (for multidelete)
  drop-after=BYTES             forward, but cut the response body after BYTES
  if-none-match                answer 412 PreconditionFailed when the request
                               has "If-None-Match: *", else forward: what AWS
                               S3 does on a Complete whose key exists (RGW 16
                               ignores the header there)
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

    def _xml(self, status, body):
        self.send_response(status)
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
            keys = re.findall(rb'<Key>(.*?)</Key>', body, re.S)
            b = (b'<?xml version="1.0" encoding="UTF-8"?><DeleteResult>' +
                 b''.join(b'<Error><Key>' + k + b'</Key><Code>AccessDenied</Code>'
                          b'<Message>injected by s3-proxy</Message></Error>' for k in keys) +
                 b'</DeleteResult>')
            self._xml(200, b)
            return
        if action and action.isdigit():
            self._error(int(action))
            return
        if action == 'if-none-match' and self.headers.get('If-None-Match') == '*':
            self._error(412)
            return
        up = self.server.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        headers = {k: v for k, v in self.headers.items()}
        conn.request(self.command, self.path, body=body if body else None, headers=headers)
        r = conn.getresponse()
        data = r.read()
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
    threading.Timer(a.lifetime, lambda: os._exit(0)).start()
    tmp = a.port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % srv.server_address[1])
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == '__main__':
    main()
