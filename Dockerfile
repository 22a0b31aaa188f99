# stepgate: one static binary on a minimal base image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/stepgate ./cmd/stepgate
# The data dir and, beside it, the audit witness dir, owned by the nonroot
# user (distroless has no shell to create them later).
RUN mkdir -p /out/var/lib/stepgate /out/var/lib/stepgate-witness

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/stepgate /usr/local/bin/stepgate
COPY --from=build --chown=65532:65532 /out/var/lib/ /var/lib/
WORKDIR /var/lib/stepgate
ENV STEPGATE_DATA_DIR=/var/lib/stepgate \
    STEPGATE_DECISION_ADDR=0.0.0.0:8710 \
    STEPGATE_ADMIN_ADDR=0.0.0.0:8711
EXPOSE 8710 8711
ENTRYPOINT ["/usr/local/bin/stepgate"]
CMD ["serve"]
