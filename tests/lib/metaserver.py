#!/usr/bin/env python3
"""metaserver: the network credential sources pgbak asks, on 127.0.0.1 (tests only).

    metaserver.py --port-file F --count-file F --sts-endpoint URL
                  --access-key K --secret-key S
                  [--imdsv1-only] [--role-name NAME]
                  [--auth VALUE] [--role-arn ARN] [--web-token-file F]
                  [--expires-in SECONDS[,SECONDS...]] [--refuse-after N]
                  [--log FILE] [--secrets-file FILE] [--lifetime SECONDS]

One process plays three endpoints, each checking what the real one checks:
  EC2 instance metadata, IMDSv2
      PUT /latest/api/token (needs X-aws-ec2-metadata-token-ttl-seconds)
      GET /latest/meta-data/iam/security-credentials/[ROLE]: 401 without a
      token it handed out.  --imdsv1-only: the token PUT answers 405 and
      the GETs answer without a token, as an IMDSv1-only service does.
  the container endpoint (ECS, EKS Pod Identity)
      GET /v2/credentials/ANYTHING: 401 unless Authorization is --auth exactly.
  STS AssumeRoleWithWebIdentity
      POST / with the form: AccessDenied unless RoleArn is --role-arn and
      WebIdentityToken is the content of --web-token-file (read at each call,
      so a test can rotate it).

The credentials handed out are real ones, minted at each fetch through
STS GetSessionToken of --sts-endpoint (the test RGW, 900 s) with the
static keys, so the RGW proves they are used correctly.  The Expiration
reported is now + --expires-in: the Nth fetch takes the Nth value, the last
repeating (negative: already expired).  After --refuse-after fetches every
fetch is refused (500), to test credentials that cannot be refreshed.

--count-file is rewritten at each request as lines "NAME N": imds, container
and sts count credential fetches served; token counts IMDSv2 tokens,
v1get GETs answered without a token, refused refusals of any kind.
--log gets one line per request, with the AccessKeyId handed out (never a
secret).  --secrets-file gets the secret keys and session tokens handed
out, one a line, for a test to look for them where they must not be.  The port is written to --port-file once it listens.  Stdlib and
botocore only; it exits by itself after --lifetime seconds (default 900).
"""
import argparse
import json
import os
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import serveutil

ROLE_PATH = '/latest/meta-data/iam/security-credentials/'
STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/'
STS_OK = ('<AssumeRoleWithWebIdentityResponse xmlns="%s"><AssumeRoleWithWebIdentityResult>'
          '<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>'
          '<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>'
          '<SubjectFromWebIdentityToken>system:serviceaccount:db:pgbak'
          '</SubjectFromWebIdentityToken></AssumeRoleWithWebIdentityResult>'
          '<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>'
          '</AssumeRoleWithWebIdentityResponse>')
STS_ERR = ('<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code>'
           '<Message>%s</Message></Error><RequestId>1</RequestId></ErrorResponse>')


def xml_escape(s):
    return s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


class State:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.counts = {k: 0 for k in ('imds', 'container', 'sts', 'token', 'v1get',
                                      'refused')}
        self.tokens = set()
        self.fetches = 0
        self.expires = [int(x) for x in a.expires_in.split(',')]
        for k in list(os.environ):
            if k.startswith('AWS_'):
                del os.environ[k]
        import botocore.session
        sess = botocore.session.get_session()
        self.sts = sess.create_client(
            'sts', region_name='us-east-1', endpoint_url=a.sts_endpoint,
            aws_access_key_id=a.access_key, aws_secret_access_key=a.secret_key)
        self.write_counts()

    def count(self, name):
        with self.lock:
            self.counts[name] += 1
            self.write_counts()

    def write_counts(self):
        tmp = self.a.count_file + '.tmp'
        with open(tmp, 'w') as f:
            for k, v in sorted(self.counts.items()):
                f.write('%s %d\n' % (k, v))
        os.rename(tmp, self.a.count_file)

    def log(self, line):
        if self.a.log:
            with self.lock, open(self.a.log, 'a') as f:
                f.write(line + '\n')

    def mint(self, kind):
        """Fresh credentials for one fetch of kind, or None once refused."""
        with self.lock:
            if self.a.refuse_after is not None and self.fetches >= self.a.refuse_after:
                return None
            n = self.fetches
            self.fetches += 1
        c = self.sts.get_session_token(DurationSeconds=900)['Credentials']
        ttl = self.expires[min(n, len(self.expires) - 1)]
        exp = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() + ttl))
        self.log('%s fetch %d %s expires %s' % (kind, n + 1, c['AccessKeyId'], exp))
        if self.a.secrets_file:
            with self.lock, open(self.a.secrets_file, 'a') as f:
                f.write('%s\n%s\n' % (c['SecretAccessKey'], c['SessionToken']))
        self.count(kind)
        return {'AccessKeyId': c['AccessKeyId'], 'SecretAccessKey': c['SecretAccessKey'],
                'Token': c['SessionToken'], 'Expiration': exp}


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype='text/plain'):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def refuse(self, status, body, ctype='text/plain', why=''):
        st.count('refused')
        st.log('refused %s %s %d %s' % (self.command, self.path, status, why))
        self.reply(status, body, ctype)

    def body(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    # IMDS: the token
    def do_PUT(self):
        self.body()
        if self.path != '/latest/api/token':
            return self.refuse(404, 'not found')
        if st.a.imdsv1_only:
            return self.refuse(405, 'method not allowed', why='imdsv1-only')
        ttl = self.headers.get('X-aws-ec2-metadata-token-ttl-seconds', '')
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.refuse(400, 'bad ttl', why='ttl header')
        tok = secrets.token_urlsafe(32)
        with st.lock:
            st.tokens.add(tok)
        st.count('token')
        st.log('imds token')
        self.reply(200, tok)

    def do_GET(self):
        p = urllib.parse.urlsplit(self.path).path
        if p.startswith(ROLE_PATH):
            return self.imds(p[len(ROLE_PATH):])
        if p.startswith('/v2/credentials/'):
            return self.container()
        self.refuse(404, 'not found')

    def imds(self, role):
        tok = self.headers.get('X-aws-ec2-metadata-token')
        if st.a.imdsv1_only:
            st.count('v1get')
        else:
            with st.lock:
                good = tok is not None and tok in st.tokens
            if not good:
                return self.refuse(401, 'Unauthorized', why='no or bad token')
        if role == '':
            return self.reply(200, st.a.role_name)
        if role != st.a.role_name:
            return self.refuse(404, 'not found', why='role')
        c = st.mint('imds')
        if c is None:
            return self.refuse(500, 'Internal Server Error', why='refuse-after')
        c.update({'Code': 'Success', 'Type': 'AWS-HMAC',
                  'LastUpdated': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())})
        self.reply(200, json.dumps(c, indent=2), 'text/plain')

    def container(self):
        if self.headers.get('Authorization') != st.a.auth:
            return self.refuse(401, json.dumps({'code': 'AccessDenied', 'message':
                               'unauthorized'}), 'application/json', why='authorization')
        c = st.mint('container')
        if c is None:
            return self.refuse(500, '{"code": "InternalError"}', 'application/json',
                               why='refuse-after')
        self.reply(200, json.dumps(c), 'application/json')

    # STS AssumeRoleWithWebIdentity, unsigned
    def do_POST(self):
        form = urllib.parse.parse_qs(self.body().decode(), keep_blank_values=True)
        get = lambda k: (form.get(k) or [''])[0]
        if urllib.parse.urlsplit(self.path).path != '/' or \
                get('Action') != 'AssumeRoleWithWebIdentity' or get('Version') != '2011-06-15':
            return self.refuse(400, STS_ERR % (STS_NS, 'InvalidAction', 'bad request'),
                               'text/xml', why='action')
        try:
            with open(st.a.web_token_file) as f:
                want = f.read().strip()
        except OSError:
            want = None
        if get('RoleArn') != st.a.role_arn:
            return self.refuse(403, STS_ERR % (STS_NS, 'AccessDenied', 'Not authorized to '
                               'perform sts:AssumeRoleWithWebIdentity'), 'text/xml',
                               why='role arn')
        if want is None or get('WebIdentityToken') != want:
            return self.refuse(400, STS_ERR % (STS_NS, 'InvalidIdentityToken',
                               'Incorrect token audience'), 'text/xml', why='token')
        if get('RoleSessionName') == '':
            return self.refuse(400, STS_ERR % (STS_NS, 'ValidationError',
                               'RoleSessionName'), 'text/xml', why='session name')
        st.log('sts session %s' % get('RoleSessionName'))
        c = st.mint('sts')
        if c is None:
            return self.refuse(403, STS_ERR % (STS_NS, 'ExpiredTokenException',
                               'Token expired'), 'text/xml', why='refuse-after')
        self.reply(200, STS_OK % (STS_NS, c['AccessKeyId'], xml_escape(c['SecretAccessKey']),
                                  xml_escape(c['Token']), c['Expiration']), 'text/xml')


def main():
    global st
    ap = argparse.ArgumentParser()
    ap.add_argument('--port-file', required=True)
    ap.add_argument('--count-file', required=True)
    ap.add_argument('--sts-endpoint', required=True)
    ap.add_argument('--access-key', required=True)
    ap.add_argument('--secret-key', required=True)
    ap.add_argument('--imdsv1-only', action='store_true')
    ap.add_argument('--role-name', default='pgbak-backup')
    ap.add_argument('--auth', default='Bearer pgbak-container-test-token')
    ap.add_argument('--role-arn', default='arn:aws:iam::123456789012:role/pgbak-backup')
    ap.add_argument('--web-token-file', default='/nonexistent')
    ap.add_argument('--expires-in', default='3600')
    ap.add_argument('--refuse-after', type=int)
    ap.add_argument('--log')
    ap.add_argument('--secrets-file')
    ap.add_argument('--lifetime', type=float, default=900)
    a = ap.parse_args()
    st = State(a)
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    serveutil.serve(srv, a.lifetime, a.port_file)


if __name__ == '__main__':
    main()
