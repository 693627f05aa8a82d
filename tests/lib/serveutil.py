"""The end every test server here shares (s3-proxy.py, metaserver.py)."""
import os
import threading


def serve(srv, lifetime, port_file):
    """Serve srv until lifetime seconds pass (a test killed mid-way leaves no
    server behind), after writing its port to port_file atomically, so that
    a test waiting for the file never reads half a number."""
    threading.Timer(lifetime, lambda: os._exit(0)).start()
    tmp = port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % srv.server_address[1])
    os.rename(tmp, port_file)
    srv.serve_forever()
