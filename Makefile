# function-squonk2-viz. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

BIN    := $(CURDIR)/bin
OUTPUT := $(CURDIR)/_output

# pinned is the version of module $(2) that the go.mod in folder $(1)
# requires: each tool's version is set in one place, its module's go.mod.
pinned = $(shell awk '$$1 == "$(2)" {print $$2} $$1 == "require" && $$2 == "$(2)" {print $$3}' $(1)/go.mod)

# Pinned tools. The crossplane CLI (crank) is built from the test module,
# whose go.mod pins github.com/crossplane/crossplane/v2 at v2.2.1, the last
# release that has it; a crossplane v2.0-v2.2 already on PATH is used instead.
CROSSPLANE_CLI_VERSION = $(call pinned,test,github.com/crossplane/crossplane/v2)
GOLANGCI_LINT_VERSION  := v2.12.2

# Package build parameters.
VERSION ?= v0.1.0-dev
ARCH    ?= amd64

# Where `make render` and `make run` serve the function.
FUNCTION_PORT ?= 9443

CROSSPLANE    := $(BIN)/crossplane
FUNCTION      := $(BIN)/function
MKIMAGE       := $(BIN)/mkimage
GOLANGCI_LINT := $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)

# golangci-lint's cache is kept per checkout: a shared one answers a second
# clone of the same code with the first clone's file paths, and the //nolint
# comments it cannot then read stop applying.
export GOLANGCI_LINT_CACHE ?= $(CURDIR)/.cache/golangci-lint

# The end-to-end suite's control plane, each pinned by a module of test/tools.
K8S_VERSION = $(call pinned,test/tools/k8s,k8s.io/kubernetes)
K8S_LDFLAGS = -X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(K8S_VERSION))) \
	-X k8s.io/client-go/pkg/version.gitVersion=$(K8S_VERSION)
E2E_TOOLS := $(BIN)/etcd $(BIN)/kube-apiserver $(BIN)/kube-controller-manager $(BIN)/kubectl \
	$(BIN)/crossplane-core $(BIN)/provider-kubernetes
# The releases before the kit's, which the upgrade suite starts with.
UPGRADE_TOOLS := $(BIN)/crossplane-core-previous $(BIN)/provider-kubernetes-previous

BENCH_BINARIES := $(BIN)/function $(BIN)/noop $(BIN)/loadgen $(BIN)/bench

GO_SOURCES := $(shell find . -name '*.go' -not -path './test/*' -not -path './hack/*') go.mod go.sum

FUNCTION_XPKG      := $(OUTPUT)/function-squonk2-viz-$(VERSION)-$(ARCH).xpkg
CONFIGURATION_XPKG := $(OUTPUT)/configuration-squonk2-viz-$(VERSION).xpkg

##@ Main jobs

.PHONY: render
render: $(FUNCTION) $(CROSSPLANE) ## Preview the example DataVisualisation: crossplane render against the function, run locally.
	@hack/with-function.sh $(FUNCTION) $(FUNCTION_PORT) -- \
	  $(CROSSPLANE) render example/xr.yaml example/composition.yaml example/functions.yaml \
	    --include-function-results \
	    --function-annotations=render.crossplane.io/runtime-development-target=127.0.0.1:$(FUNCTION_PORT)

.PHONY: test
test: test-unit test-xrd test-render test-xpkg ## Run every test: unit, the XRD's CRD, render and validate, and package tests.

##@ Development

.PHONY: run
run: ## Run the function locally, insecure, with debug logs.
	go run . --insecure --debug --address 127.0.0.1:$(FUNCTION_PORT)

.PHONY: build
build: $(FUNCTION) ## Build the function into bin/.

$(FUNCTION): $(GO_SOURCES)
	@mkdir -p $(BIN)
	go build -o $@ .

.PHONY: generate
generate: ## Regenerate the Input's deepcopy methods and CRD.
	go generate -tags generate ./...

# The load benchmark (build tag load) shares the end-to-end harness with the
# contract and uses less of it: what only the contract uses is not unused.
.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint on every module, and the end-to-end suite in each of its builds.
	$(GOLANGCI_LINT) run ./...
	cd test && $(GOLANGCI_LINT) run --config ../.golangci.yml ./... && \
	  $(GOLANGCI_LINT) run --config ../.golangci.yml --build-tags integration,e2e,load --disable unused ./e2e/ && \
	  $(GOLANGCI_LINT) run --config ../.golangci.yml --build-tags integration,e2e,upgrade --disable unused ./e2e/ && \
	  $(GOLANGCI_LINT) run --config ../.golangci.yml --build-tags integration,e2e,load,ceiling --disable unused ./e2e/

.PHONY: fmt-check
fmt-check: $(GOLANGCI_LINT) ## Fail when the code is not formatted as the linters want it.
	@$(GOLANGCI_LINT) fmt --diff ./... && (cd test && $(GOLANGCI_LINT) fmt --diff --config ../.golangci.yml ./...) || \
	  { echo "run make fmt"; exit 1; }

.PHONY: fmt
fmt: $(GOLANGCI_LINT) ## Format the code as the linters want it.
	$(GOLANGCI_LINT) fmt ./...
	cd test && $(GOLANGCI_LINT) fmt --config ../.golangci.yml ./...

.PHONY: test-unit
test-unit: ## Unit tests of the function, and of the suites' own helpers, with the race detector and coverage.
	go test -race -cover ./...
	cd test && go test -race -cover ./internal/...

FUZZTIME ?= 60s

.PHONY: fuzz
fuzz: ## Fuzz RunFunction for FUZZTIME (default 60s).
	go test ./fn -run '^$$' -fuzz '^FuzzRunFunction$$' -fuzztime $(FUZZTIME)

.PHONY: test-xrd
test-xrd: ## Validate the CRD Crossplane makes from the XRD as the API server will: schema, CEL rules and their cost.
	cd test && go test -count=1 -tags integration ./xrd/

.PHONY: test-render
test-render: $(FUNCTION) $(CROSSPLANE) ## Render every example/ case, compare it with its expected output, and validate it.
	cd test && go test -count=1 -tags integration ./render/ -crossplane=$(CROSSPLANE) -function=$(FUNCTION) -repo=$(CURDIR)

.PHONY: update-render
update-render: $(FUNCTION) $(CROSSPLANE) ## Rewrite the examples' expected output from the function (review the diff!).
	cd test && go test -count=1 -tags integration ./render/ -crossplane=$(CROSSPLANE) -function=$(FUNCTION) -repo=$(CURDIR) -update

.PHONY: validate
validate: test-render ## Validate the rendered examples against the XRD and CRDs (part of test-render).

.PHONY: test-xpkg
test-xpkg: xpkg ## Open the built packages and check what is inside.
	cd test && go test -count=1 -tags integration ./xpkg/ -function-xpkg=$(FUNCTION_XPKG) -configuration-xpkg=$(CONFIGURATION_XPKG) \
	  -arch=$(ARCH) -dm-namespaces=$(DM_NAMESPACES) -default-mode=$(DEFAULT_MODE) -version=$(VERSION)

# RUN is a regular expression of the tests to run, passed to go test -run, in
# either suite: RUN=TestDataManager/direct, RUN='TestLoadBursts/.*/50AtOnce'.
RUN ?=

E2E_FLAGS = -bin=$(BIN) -repo=$(CURDIR) -function-xpkg=$(FUNCTION_XPKG) -configuration-xpkg=$(CONFIGURATION_XPKG) \
	-function-binary=$(OUTPUT)/function-$(ARCH)

# e2e-run runs the suite of build tags $(1) in _output/$(2), writes its tables
# to _output/$(2).md, and fails if a process it started survives it.
e2e-run = rc=0; (cd test && go test -count=1 -timeout $(3) -tags $(1) ./e2e/ -run '$(RUN)' $(E2E_FLAGS) \
	  -dir=$(OUTPUT)/$(2) -timings=$(OUTPUT)/$(2).md $(4)) || rc=$$?; \
	hack/reap.sh $(OUTPUT)/$(2)/pids || rc=1; exit $$rc

.PHONY: e2e
e2e: $(E2E_TOOLS) xpkg ## The contract: the Data Manager's actions on a real control plane, both modes (about 5 minutes). RUN=<regexp> picks tests.
	@$(call e2e-run,e2e,e2e,20m)

# The load benchmark's parameters: the bursts' sizes, the window of each
# cost at rest, the creates during each restart, and the Pods of no instance
# that measure what watching Pods costs.
LOAD_SIZES          ?= 50,200
LOAD_REST           ?= 60s
LOAD_RESTART_BURST  ?= 20
LOAD_UNRELATED_PODS ?= 2000

.PHONY: e2e-load
e2e-load: $(E2E_TOOLS) xpkg ## The load benchmark: bursts of LOAD_SIZES, the cost at rest, restarts under load (about 25 minutes); tables in _output/e2e-load.md.
	@$(call e2e-run,e2e$(COMMA)load,e2e-load,60m,-sizes=$(LOAD_SIZES) -rest=$(LOAD_REST) -restart-burst=$(LOAD_RESTART_BURST) -unrelated-pods=$(LOAD_UNRELATED_PODS))

# The ceiling benchmark's parameters: the fleet sizes it grows to, and the
# instances each batch creates at once.
CEILING_SIZES ?= 200,1000,2000
CEILING_BATCH ?= 100
CEILING_BATCH_TIMEOUT ?= 15m
CEILING_MODES ?= direct,provider
CEILING_FOR   ?= 0
CEILING_DATA  := $(OUTPUT)/e2e-ceiling.json

# The ceiling's build holds the load benchmark's tests too: run its own alone.
e2e-ceiling: RUN = TestLoadCeiling
.PHONY: e2e-ceiling
e2e-ceiling: $(E2E_TOOLS) xpkg ## The ceiling benchmark: a fleet grown in batches to each of CEILING_SIZES, both modes, with the kit's sizing (about 80 minutes); tables in _output/e2e-ceiling.md, figures and plot in _output/e2e-ceiling.{json,svg}.
	@$(call e2e-run,e2e$(COMMA)load$(COMMA)ceiling,e2e-ceiling,150m,-ceiling=$(CEILING_SIZES) -batch=$(CEILING_BATCH) -batch-timeout=$(CEILING_BATCH_TIMEOUT) -await-timeout=$(CEILING_BATCH_TIMEOUT) -ceiling-modes=$(CEILING_MODES) -ceiling-for=$(CEILING_FOR) -rest=$(LOAD_REST) -ceiling-data=$(CEILING_DATA))

.PHONY: e2e-ceiling-record
e2e-ceiling-record: ## Run the ceiling benchmark, add its tables, dated, to test/e2e/ceiling-results.md, and its figures and plot to docs/.
	@commit=$$(git rev-parse --short HEAD); \
	[[ -z $$(git status --porcelain -- ':!*.md') ]] || commit="$$commit (with uncommitted changes)"; \
	$(MAKE) --no-print-directory e2e-ceiling && \
	hack/record-load.sh $(OUTPUT)/e2e-ceiling.md test/e2e/ceiling-results.md "CEILING_SIZES=$(CEILING_SIZES) CEILING_BATCH=$(CEILING_BATCH) CEILING_BATCH_TIMEOUT=$(CEILING_BATCH_TIMEOUT) CEILING_MODES=$(CEILING_MODES) CEILING_FOR=$(CEILING_FOR) LOAD_REST=$(LOAD_REST)" "$$commit" && \
	cp $(CEILING_DATA) docs/sizing.json && cp $(CEILING_DATA:.json=.svg) docs/sizing.svg

# The release the upgrade suite upgrades from, built from git history with
# its own Makefile: the last release tag once there is one; until then the
# last commit CI passed before this release (no release is tagged yet).
PREVIOUS_RELEASE ?= 19d5a64
PREVIOUS_VERSION := v0.1.0
PREVIOUS         := $(OUTPUT)/previous
PREVIOUS_XPKGS   := $(PREVIOUS)/function-squonk2-viz-$(PREVIOUS_VERSION)-$(ARCH).xpkg $(PREVIOUS)/configuration-squonk2-viz-$(PREVIOUS_VERSION).xpkg

$(PREVIOUS_XPKGS) &: $(CROSSPLANE) $(MKIMAGE)
	rm -rf $(PREVIOUS)/src && mkdir -p $(PREVIOUS)/src
	git archive $(PREVIOUS_RELEASE) | tar -x -C $(PREVIOUS)/src
	$(MAKE) -C $(PREVIOUS)/src --no-print-directory -o $(CROSSPLANE) -o $(MKIMAGE) xpkg VERSION=$(PREVIOUS_VERSION) BIN=$(BIN) OUTPUT=$(PREVIOUS)

# The instances Ready in each mode while each upgrade runs.
UPGRADE_FLEET ?= 50

.PHONY: e2e-upgrade
e2e-upgrade: $(E2E_TOOLS) $(UPGRADE_TOOLS) xpkg $(PREVIOUS_XPKGS) ## Upgrade Crossplane, provider-kubernetes, the function and a setting under load, both modes (about 10 minutes); table in _output/e2e-upgrade.md.
	@$(call e2e-run,e2e$(COMMA)upgrade,e2e-upgrade,30m,-fleet=$(UPGRADE_FLEET) \
	  -function-xpkg=$(word 1,$(PREVIOUS_XPKGS)) -configuration-xpkg=$(word 2,$(PREVIOUS_XPKGS)) -function-binary=$(PREVIOUS)/function-$(ARCH) \
	  -crossplane-tool=crossplane-core-previous -provider-tool=provider-kubernetes-previous \
	  -upgrade-function-xpkg=$(FUNCTION_XPKG) -upgrade-configuration-xpkg=$(CONFIGURATION_XPKG) -upgrade-function-binary=$(OUTPUT)/function-$(ARCH))

.PHONY: e2e-upgrade-record
e2e-upgrade-record: ## Run the upgrade suite and add its table, dated, with the commit and the machine, to test/e2e/upgrade-results.md.
	@commit=$$(git rev-parse --short HEAD); \
	[[ -z $$(git status --porcelain -- ':!*.md') ]] || commit="$$commit (with uncommitted changes)"; \
	$(MAKE) --no-print-directory e2e-upgrade && \
	hack/record-load.sh $(OUTPUT)/e2e-upgrade.md test/e2e/upgrade-results.md "UPGRADE_FLEET=$(UPGRADE_FLEET)" "$$commit"

LOAD_RESULTS := test/e2e/load-results.md

.PHONY: e2e-load-record
e2e-load-record: ## Run the load benchmark and add its tables, dated, with the commit and the machine, to test/e2e/load-results.md.
	@# The commit the run starts from, marked when the tree differs from it
	@# but for Markdown, which does not change what runs.
	@commit=$$(git rev-parse --short HEAD); \
	[[ -z $$(git status --porcelain -- ':!*.md') ]] || commit="$$commit (with uncommitted changes)"; \
	$(MAKE) --no-print-directory e2e-load && \
	hack/record-load.sh $(OUTPUT)/e2e-load.md $(LOAD_RESULTS) \
	  "LOAD_SIZES=$(LOAD_SIZES) LOAD_REST=$(LOAD_REST) LOAD_RESTART_BURST=$(LOAD_RESTART_BURST) LOAD_UNRELATED_PODS=$(LOAD_UNRELATED_PODS)" "$$commit"

COMMA := ,

##@ Performance


$(BIN)/noop $(BIN)/loadgen $(BIN)/bench: $(GO_SOURCES)
	@mkdir -p $(BIN)
	go build -o $@ ./bench/$(patsubst bench,run,$(notdir $@))

.PHONY: bench
bench: $(BENCH_BINARIES) ## The function against the no-op floor over gRPC; writes _output/bench.md.
	@mkdir -p $(OUTPUT)
	$(BIN)/bench -function $(FUNCTION) -noop $(BIN)/noop -loadgen $(BIN)/loadgen -o $(OUTPUT)/bench.md

.PHONY: soak
soak: $(BENCH_BINARIES) ## 60s of RunFunction at 16 callers, each call a new DataVisualisation: no error, no memory growth.
	$(BIN)/bench -function $(FUNCTION) -loadgen $(BIN)/loadgen -c 16 -unique -soak 60s

.PHONY: bench-go
bench-go: ## Go benchmarks of the builders and of RunFunction in-process.
	go test ./fn -run '^$$' -bench . -benchmem

.PHONY: profile
profile: ## pprof CPU and allocation profiles of RunFunction in process: the top of each; the profiles in _output/.
	@mkdir -p $(OUTPUT)
	go test ./fn -run '^$$' -bench 'RunFunction' -benchmem -o $(OUTPUT)/fn.test \
	  -cpuprofile $(OUTPUT)/cpu.pprof -memprofile $(OUTPUT)/mem.pprof
	go tool pprof -top -nodecount 20 $(OUTPUT)/fn.test $(OUTPUT)/cpu.pprof
	go tool pprof -top -nodecount 20 -sample_index alloc_space $(OUTPUT)/fn.test $(OUTPUT)/mem.pprof

##@ Packages

.PHONY: xpkg
xpkg: $(FUNCTION_XPKG) $(CONFIGURATION_XPKG) ## Build the Function and Configuration packages into _output/.

# The runtime image the Function package embeds: built here with mkimage, or
# given, as the release workflow gives the Dockerfile's image.
RUNTIME_TARBALL ?=

$(FUNCTION_XPKG): $(GO_SOURCES) $(wildcard package/*.yaml package/input/*.yaml) $(CROSSPLANE) $(MKIMAGE)
	@mkdir -p $(OUTPUT)
ifeq ($(RUNTIME_TARBALL),)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(ARCH) go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(OUTPUT)/function-$(ARCH) .
	$(MKIMAGE) -binary $(OUTPUT)/function-$(ARCH) -arch $(ARCH) -tag function-squonk2-viz:$(VERSION) -o $(OUTPUT)/runtime-$(ARCH).tar
	$(CROSSPLANE) xpkg build --package-root=package --ignore='configuration/*' \
	  --embed-runtime-image-tarball=$(OUTPUT)/runtime-$(ARCH).tar --package-file=$@
else
	$(CROSSPLANE) xpkg build --package-root=package --ignore='configuration/*' \
	  --embed-runtime-image-tarball=$(RUNTIME_TARBALL) --package-file=$@
endif

REGISTRY ?= ghcr.io/informaticsmatters

.PHONY: push
push: $(CROSSPLANE) ## Push the built packages (every architecture in _output/) to REGISTRY, tagged VERSION.
	$(CROSSPLANE) xpkg push --package-files=$$(ls $(OUTPUT)/function-squonk2-viz-$(VERSION)-*.xpkg | paste -sd, -) \
	  $(REGISTRY)/function-squonk2-viz:$(VERSION)
	$(CROSSPLANE) xpkg push --package-files=$(CONFIGURATION_XPKG) $(REGISTRY)/configuration-squonk2-viz:$(VERSION)

# The Data Manager namespaces, colon-separated, that the XRD's
# application-namespaces annotation names: the one value an installation sets.
# The package manager reverts edits to a packaged XRD, so it is set here, when
# the Configuration package is built.
DM_NAMESPACES ?= im-data-manager

# The mode of a DataVisualisation that selects no Composition: provider (the
# provider-kubernetes Objects) or direct (see the README, "Choosing a mode").
# Set, like DM_NAMESPACES, when the Configuration package is built.
DEFAULT_MODE ?= provider

# Built every time: DM_NAMESPACES may have changed.
$(CONFIGURATION_XPKG): $(wildcard package/configuration/*.yaml) $(CROSSPLANE) FORCE
	@[[ "$(DM_NAMESPACES)" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(:[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$$ ]] || \
	  { echo "DM_NAMESPACES must be colon-separated namespace names, not '$(DM_NAMESPACES)'"; exit 1; }
	@rm -rf $(OUTPUT)/configuration && mkdir -p $(OUTPUT)/configuration
	cp package/configuration/*.yaml $(OUTPUT)/configuration/
	@[[ "$(DEFAULT_MODE)" =~ ^(provider|direct)$$ ]] || { echo "DEFAULT_MODE must be provider or direct, not '$(DEFAULT_MODE)'"; exit 1; }
	sed -i 's|^\(      data-manager.informaticsmatters.com/application-namespaces:\).*|\1 $(DM_NAMESPACES)|' $(OUTPUT)/configuration/xrd.yaml
	@# The Function release it was built with: the one its Compositions' Input
	@# is written for, and the only one it depends on.
	sed -i '/package: ghcr.io\/informaticsmatters\/function-squonk2-viz$$/{n;s|version: .*|version: "$(VERSION)"|}' $(OUTPUT)/configuration/crossplane.yaml
	sed -i 's|^\(      kind: Input\)$$|\1\n      metadata:\n        annotations:\n          viz.fn.squonk.it/function-version: $(VERSION)|' $(OUTPUT)/configuration/composition*.yaml
	sed -i '/^  defaultCompositionRef:/{n;s|name: .*|name: $(if $(filter direct,$(DEFAULT_MODE)),datavisualisations-direct.squonk.it,datavisualisations.squonk.it)|}' \
	  $(OUTPUT)/configuration/xrd.yaml
	$(CROSSPLANE) xpkg build --package-root=$(OUTPUT)/configuration --package-file=$@

.PHONY: FORCE
FORCE:

##@ Tools

.PHONY: tools
tools: $(CROSSPLANE) $(MKIMAGE) $(GOLANGCI_LINT) ## Build the pinned tools into bin/.

$(CROSSPLANE): test/go.mod test/go.sum
	@mkdir -p $(BIN)
	@found=$$(command -v crossplane || true); \
	if [[ -n $$found && $$found != $@ ]] && "$$found" version --client 2>/dev/null | grep -Eq 'v2\.[0-2]\.'; then \
	  echo "Using $$found ($$("$$found" version --client))"; ln -sf "$$found" $@; \
	else \
	  echo "Building the crossplane CLI $(CROSSPLANE_CLI_VERSION)"; \
	  cd test && go build -ldflags "-X github.com/crossplane/crossplane/v2/internal/version.version=$(CROSSPLANE_CLI_VERSION)" \
	    -o $@ github.com/crossplane/crossplane/v2/cmd/crank; \
	fi

.PHONY: e2e-tools
e2e-tools: $(E2E_TOOLS) ## Build the end-to-end suite's control plane into bin/ (about 9 minutes cold).

$(BIN)/etcd: test/tools/k8s/go.mod test/tools/k8s/go.sum
	go build -C test/tools/k8s -o $@ ./cmd/etcd

$(BIN)/kube-apiserver $(BIN)/kube-controller-manager $(BIN)/kubectl: test/tools/k8s/go.mod test/tools/k8s/go.sum
	go build -C test/tools/k8s -ldflags "$(K8S_LDFLAGS)" -o $@ k8s.io/kubernetes/cmd/$(notdir $@)

# Without the version, Crossplane refuses packages that constrain it.
$(BIN)/crossplane-core $(BIN)/crossplane-core-previous: $(BIN)/%: test/tools/%/go.mod test/tools/%/go.sum
	@[[ -n "$(call pinned,test/tools/$*,github.com/crossplane/crossplane/v2)" ]] || { echo "test/tools/$*/go.mod pins no crossplane/v2"; exit 1; }
	go build -C test/tools/$* \
	  -ldflags "-X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=$(call pinned,test/tools/$*,github.com/crossplane/crossplane/v2)" \
	  -o $@ github.com/crossplane/crossplane/v2/cmd/crossplane

$(BIN)/provider-kubernetes $(BIN)/provider-kubernetes-previous: $(BIN)/%: test/tools/%/go.mod test/tools/%/go.sum
	go build -C test/tools/$* -o $@ github.com/crossplane-contrib/provider-kubernetes/cmd/provider

$(MKIMAGE): test/go.mod test/go.sum $(wildcard test/cmd/mkimage/*.go)
	@mkdir -p $(BIN)
	cd test && go build -o $@ ./cmd/mkimage

$(GOLANGCI_LINT):
	@mkdir -p $(BIN)
	GOBIN=$(BIN)/.golangci-lint go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(BIN)/.golangci-lint/golangci-lint $@ && rmdir $(BIN)/.golangci-lint

##@ Releases

CHANNEL ?= alpha

.PHONY: release-check
release-check: ## Refuse to release from a dirty tree, another branch than main, or a HEAD without a passing .ci/run; else print the next tag (CHANNEL=alpha|beta|rc|final).
	@go run ./hack/release check --channel $(CHANNEL)

.PHONY: pre-commit
pre-commit: ## Run every pre-commit hook on every file.
	pre-commit run --all-files --show-diff-on-failure

##@ Checks run by CI

.PHONY: check-generate
check-generate: generate ## Fail when generated files are not current.
	@git diff --exit-code -- input package || { echo "go generate changed files: run 'make generate' and commit them"; exit 1; }
	@[[ -z $$(git status --porcelain -- input package) ]] || { git status --porcelain -- input package; echo "go generate added files: commit them"; exit 1; }

.PHONY: check-tidy
GO_MODULES := . test hack/tools test/tools/k8s test/tools/crossplane-core test/tools/provider-kubernetes \
	test/tools/crossplane-core-previous test/tools/provider-kubernetes-previous

check-tidy: ## Fail when a go.mod or go.sum is not tidy.
	for m in $(GO_MODULES); do (cd $$m && go mod tidy); done
	@git diff --exit-code -- $(foreach m,$(GO_MODULES),$(m)/go.mod $(m)/go.sum) || { echo "go mod tidy changed files: commit them"; exit 1; }

.PHONY: vet
vet: ## go vet every module.
	go vet ./...
	cd test && go vet -tags integration,e2e ./... && go vet -tags e2e,load ./e2e/

.PHONY: ci
ci: check-tidy check-generate vet lint test ## Everything CI checks.

.PHONY: clean
clean: ## Remove built packages (keeps the cached tools in bin/).
	rm -rf $(OUTPUT) $(FUNCTION)

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2} /^##@/ {printf "\n%s\n", substr($$0, 5)}' $(MAKEFILE_LIST)
