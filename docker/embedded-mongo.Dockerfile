# Image with only the embedded MongoDB-compatible server (FerretDB + SQLite).
#
# No base image can be pulled on our machines, so this is a single scratch
# stage around a static binary compiled on the host. Build it with
# scripts/build-embedded-image.sh, which puts the binary at the root of a
# throwaway build context as ./embedded-mongo.
FROM scratch

COPY embedded-mongo /embedded-mongo

# scratch has no /tmp: point SQLite's temporary files at the data volume.
# WORKDIR creates /data in the image, so it exists even without a volume
# (the server would create it too; it runs as root).
ENV TMPDIR=/data
WORKDIR /data
VOLUME /data

EXPOSE 27017

# Exec form: there is no shell. The binary stops cleanly on SIGTERM.
ENTRYPOINT ["/embedded-mongo", "-addr", "0.0.0.0:27017", "-data", "/data"]
