# syntax=docker/dockerfile:1
#
# longrun as a container: a release build on Debian 12, run on distroless
# (glibc, no shell, no package manager) as a non-root user.
#
#   docker build --build-arg LONGRUN_REVISION="$(git rev-parse --short HEAD)" -t longrun .
#   docker run -p 8080:8080 -p 8081:8081 -v longrun-data:/var/lib/longrun \
#     -e LONGRUN_ALLOW_UNAUTHENTICATED=true longrun      # a trial only: see README
#
# deploy/check.sh lints this file and runs its build and start commands
# without a container engine; keep the two in step.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# What `longrun --version` names; the build context has no .git to ask.
ARG LONGRUN_REVISION=""
ENV LONGRUN_REVISION=${LONGRUN_REVISION}
COPY Cargo.toml Cargo.lock build.rs ./
COPY config config
COPY migrations migrations
COPY proto proto
COPY src src
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin longrun \
    && cp target/release/longrun /usr/local/bin/longrun \
    && mkdir -p /data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/longrun /usr/local/bin/longrun
# The data directory belongs to the user that runs longrun (distroless's
# nonroot, 65532), so the SQLite file and its lock can be made there.
COPY --from=build --chown=65532:65532 /data /var/lib/longrun
# Every flag of `longrun serve` also reads LONGRUN_<NAME>. Inside a container
# the ports listen on every address, so longrun refuses to start open:
# configure authentication (or mTLS), or set LONGRUN_ALLOW_UNAUTHENTICATED=true
# for a trial on a private network.
ENV LONGRUN_LISTEN=0.0.0.0:8080 \
    LONGRUN_CONTROL_LISTEN=0.0.0.0:8081 \
    LONGRUN_DATABASE=sqlite:///var/lib/longrun/longrun.db \
    LONGRUN_LOG_FORMAT=json
WORKDIR /var/lib/longrun
VOLUME ["/var/lib/longrun"]
EXPOSE 8080 8081
USER 65532:65532
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/longrun", "operations", "--server", "http://127.0.0.1:8080", "health"]
ENTRYPOINT ["/usr/local/bin/longrun"]
CMD ["serve"]
