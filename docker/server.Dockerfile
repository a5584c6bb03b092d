# Image of the service with its embedded store, for testcontainers
# (paymentstest/container) and demos: the server, FerretDB on SQLite inside
# it, data in /data.
#
# No base image can be pulled on our machines, so this is a single scratch
# stage around a static binary compiled on the host. Build it with
# `make image` (scripts/build-server-image.sh), which puts the binary at the
# root of a throwaway build context as ./server.
FROM scratch

COPY server /server

# scratch has no /tmp: SQLite's temporary files go to the data volume.
# WORKDIR creates /data in the image, so it exists even without a volume;
# the server runs as root, the only user of an empty image.
ENV TMPDIR=/data \
    EMBEDDED_DATA_DIR=/data \
    EMBEDDED_MONGO_ADDR=0.0.0.0:27017 \
    PORT=3000 \
    METRICS_ADDR=off
WORKDIR /data
VOLUME /data

# 3000: the API. 27017: the embedded store, for inspection (mongosh, tests).
EXPOSE 3000 27017

# Exec form: there is no shell. The server drains and stops on SIGTERM.
# API_KEY has no default: pass it (and ADMIN_API_KEY, FAULTS_ENABLED) at run.
ENTRYPOINT ["/server"]
