# The flinkops image for those who build with a registry at hand. It is the
# image `make image` builds without one: the same packaging/rootfs fills the
# same root filesystem from Debian 12's packages (runtime libraries, CA
# certificates, flinkops; no shell, no compiler), and the final stage holds
# only that, with the same user, entrypoint and port as packaging/image.
#
#   docker build -t flinkops .
FROM debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
	build-essential pkg-config libgit2-dev libcurl4-openssl-dev libyaml-dev \
	libcjson-dev libssl-dev libmicrohttpd-dev
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" flinkops && SOURCE_DATE_EPOCH=0 packaging/rootfs /rootfs ./flinkops

FROM scratch
COPY --from=build /rootfs /
USER 65532:65532
WORKDIR /var/cache/flinkops
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
EXPOSE 8080/tcp
ENTRYPOINT ["/usr/bin/flinkops"]
CMD ["agent", "--config", "/etc/flinkops/config.yaml"]
