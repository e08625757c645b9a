# The ivr server as a small static image that runs as a non-root user.
#
#   docker build -t ivr .
#   docker run --rm ivr -h
#
# The build stage compiles one static binary (no cgo); the final stage, the
# server, is distroless "static": no shell, no package manager, user nonroot
# (65532). The tools stage adds what rendering text prompts needs.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/ivr ./cmd/ivr

# The operator's image (target tools): the same binary with a shell, espeak-ng
# and sox, for the apply commands that render prompts written as text into
# /var/lib/ivr/prompts (docker compose run --rm tools ...). Not the default.
FROM debian:bookworm-slim AS tools
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng sox \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o 65532 -g 65532 /var/lib/ivr/prompts
COPY --from=build /out/ivr /usr/local/bin/ivr
COPY menus.yaml surveys.yaml schedules.yaml numbers.yaml /usr/share/ivr/
USER 65532:65532
ENV IVR_PROMPTS_DIR=/var/lib/ivr/prompts
ENTRYPOINT ["/usr/local/bin/ivr"]
CMD ["-h"]

# The server (the default target).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ivr /usr/local/bin/ivr
# The sample menus and survey, for `ivr menus apply` and `ivr surveys apply`.
COPY menus.yaml surveys.yaml schedules.yaml numbers.yaml /usr/share/ivr/
USER nonroot:nonroot
# FastAGI, and HTTP for /metrics, /healthz and /readyz.
EXPOSE 4573 8080
ENTRYPOINT ["/usr/local/bin/ivr"]
CMD ["serve"]
