# Multi-stage build: compile in the Rust image, run from a small Debian image as a non-root user.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends build-essential perl && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY assets ./assets
COPY benches ./benches
COPY migrations ./migrations
# redis: a shared cache for several instances; postgres: ORDERSTREAM_DATABASE_URL=postgres://…
# (unset, the embedded database in /data as before).
RUN cargo build --release --locked --features redis,postgres --bin orderstream

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data orderstream \
    && mkdir -p /data && chown orderstream /data
COPY --from=build /src/target/release/orderstream /usr/local/bin/orderstream
USER orderstream
WORKDIR /data
VOLUME ["/data"]
ENV ORDERSTREAM_ADDR=0.0.0.0:8080 \
    ORDERSTREAM_DATA_DIR=/data
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["orderstream"]
CMD ["serve"]
