# The pgbak container image (issue 19): pgbak-run as the entrypoint, run
# as the non-root user pgbak (uid and gid 10001: numeric, so that
# Kubernetes' runAsNonRoot can check it), on Debian 12 slim.
#
#   podman build -t localhost/pgbak:latest .          # from debian:12-slim
#   make image                                        # here: a local base
#
# BASE:BASE_TAG is the Debian 12 root filesystem both stages start from
# (two arguments, so that the tag is always written).  Where
# public image registries are not reachable, contrib/image/build makes it
# with mmdebstrap from Debian's mirror and imports it with podman import
# (make image does that), and passes it here.
#
# PostgreSQL clients: only Debian 12's own postgresql-client-15, under
# /usr/lib/postgresql/15/bin, where pg_dump: auto looks (pg_bin_root's
# default, /usr/lib/postgresql).  PGDG's repository, which would add 16
# and 17, is not reachable where this image is built and tested, so it
# is not used.  pg_dump 15 dumps servers 9.2 to 15; a newer server makes
# pg_dump: auto fail that entry, saying which client it needs (exit 100).
ARG BASE=docker.io/library/debian
ARG BASE_TAG=12-slim

# Build stage: the compiler and the -dev packages, the programs built and
# installed under /out; none of it reaches the runtime image.
FROM ${BASE}:${BASE_TAG} AS build
RUN apt-get update \
	&& apt-get install -y --no-install-recommends \
		gcc make pkg-config libc6-dev libcurl4-openssl-dev libssl-dev \
		zlib1g-dev libyaml-dev libexpat1-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j2 \
	&& make install DESTDIR=/out PREFIX=/usr

# Runtime stage: the libraries the programs link, the PostgreSQL client,
# zstd (compression: zstd) and age (encrypt), CA certificates for https.
FROM ${BASE}:${BASE_TAG}
RUN apt-get update \
	&& apt-get install -y --no-install-recommends \
		ca-certificates libcurl4 libssl3 zlib1g libyaml-0-2 libexpat1 \
		postgresql-client-15 zstd age \
	&& rm -rf /var/lib/apt/lists/* \
	&& groupadd --system --gid 10001 pgbak \
	&& useradd --system --uid 10001 --gid pgbak --home-dir /var/lib/pgbak \
		--create-home --shell /usr/sbin/nologin pgbak
COPY --from=build /out/usr/bin/ /usr/bin/
COPY --from=build /out/usr/share/doc/pgbak/ /usr/share/doc/pgbak/
USER 10001:10001
WORKDIR /var/lib/pgbak
# The settings file is mounted there (a ConfigMap on Kubernetes); any
# arguments given to the container replace it, e.g. -n /path/settings.yml.
ENTRYPOINT ["pgbak-run"]
CMD ["/etc/pgbak/settings.yml"]
