# stepgate: one static binary on a minimal base image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/stepgate ./cmd/stepgate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/stepgate /usr/local/bin/stepgate
WORKDIR /var/lib/stepgate
ENV STEPGATE_DATA_DIR=/var/lib/stepgate \
    STEPGATE_DECISION_ADDR=0.0.0.0:8710 \
    STEPGATE_ADMIN_ADDR=0.0.0.0:8711
EXPOSE 8710 8711
ENTRYPOINT ["/usr/local/bin/stepgate"]
CMD ["serve"]
