# posrt: a payment-terminal runtime. `make help` lists the targets.
PROTOS := plugins/base/proto/base.proto plugins/pinpad/proto/pinpad.proto \
          plugins/printer/proto/printer.proto plugins/scanner/proto/scanner.proto \
          plugins/channels/proto/channels.proto \
          plugins/channels/proto/wallet.proto \
          runtime/journal/proto/record.proto

.PHONY: help build test lint proto bench run

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build the posrt binary into ./bin/posrt
	go build -o bin/posrt ./cli/posrt

run: ## run posrt on the embedded default profile (fake devices, built-in host simulators)
	go run ./cli/posrt run

test: ## run every test with the race detector (the command CI runs)
	go test -race -count=1 ./...

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	go vet ./...

proto: ## regenerate the committed gRPC code (needs Debian's protobuf-compiler; fetches the pinned Go generators)
	GOBIN=$(CURDIR)/bin go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	GOBIN=$(CURDIR)/bin go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
	PATH=$(CURDIR)/bin:$$PATH protoc --go_out=. --go_opt=module=github.com/posrt/posrt \
	       --go-grpc_out=. --go-grpc_opt=module=github.com/posrt/posrt $(PROTOS)

bench: ## run the benchmarks recorded in docs/PERFORMANCE.md
	go test -run '^$$' -bench 'Sale|Void|AcquirerMAC|ColdStart|AutoMTLS' -benchtime 300x ./runtime/bench/
	go test -run '^$$' -bench Recovery -benchtime 5x ./runtime/bench/
	go test -run '^$$' -bench . -benchtime 500x ./runtime/journal/ ./runtime/terminal/ ./runtime/flow/
	go test -run '^$$' -bench . -benchtime 2000x ./runtime/pluginhost/
