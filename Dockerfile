# syntax=docker/dockerfile:1
#
# The function's runtime image, for those who build images with Docker. It is
# the image that `make xpkg` builds without Docker (test/cmd/mkimage): the
# static binary at /function, run as the non-root user 65532, listening on
# 9443. Keep the two in step. (No Docker engine runs where this project's CI
# runs, so CI builds and tests the mkimage image, not this file.)

ARG GO_VERSION=1.26.8

FROM --platform=${BUILDPLATFORM} golang:${GO_VERSION} AS build
WORKDIR /fn
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=v0.0.0-dev
RUN --mount=target=. \
    --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /function .

FROM gcr.io/distroless/static-debian12:nonroot AS image
WORKDIR /
COPY --from=build /function /function
EXPOSE 9443
USER 65532:65532
ENTRYPOINT ["/function"]
