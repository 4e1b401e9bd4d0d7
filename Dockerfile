# forewarn in a container: build with the Rust image, run with git and the binary only.
#   docker build -t forewarn .
#   docker run --rm -v "$PWD:/repo" forewarn check --base origin/main
FROM rust:1-bookworm AS build
# libclang: bindgen generates the bindings of prism (the Ruby parser) at build time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libclang-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build reads (benches: Cargo.toml names them, so the manifest needs them).
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY rules rules
COPY benches benches
RUN cargo build --release --locked --bin forewarn \
    && strip target/release/forewarn

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    # The mounted repository belongs to another user than the container's: let git read it.
    && git config --system --add safe.directory '*'
COPY --from=build /src/target/release/forewarn /usr/local/bin/forewarn
WORKDIR /repo
ENTRYPOINT ["forewarn"]
CMD ["check"]
