# ActionLab: `make run` opens the UI on sample-data, `make test` runs every test.
# Both first install the Debian packages the build needs (apt-get when root,
# otherwise they print the exact apt-get line and stop).

SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
DEBIAN_PACKAGES := pkg-config libncursesw5-dev libavformat-dev libavcodec-dev libswscale-dev \
	libavutil-dev libopenblas-dev libsqlite3-dev ffmpeg tmux libopenmpi-dev openmpi-bin
BIN_RELEASE := .build/release/actionlab

.PHONY: run test build release deps bench clean

run: deps release
	$(BIN_RELEASE) sample-data

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel --num-workers 2

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

bench: deps release
	$(BIN_RELEASE) bench

deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "ActionLab needs these Debian packages. Install them with:"; \
			echo "  sudo apt-get update && sudo apt-get install -y$$missing"; \
			exit 1; \
		fi; \
	fi

clean:
	rm -rf .build
