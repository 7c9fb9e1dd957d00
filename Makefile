# SPDX-License-Identifier: GPL-2.0-only
#
# vfio-pci-core out-of-tree build and test entry points.
#
#   make            build the modules against Debian's 6.12 headers (KDIR=)
#   make demo       build, boot a guest, bind devices, show VFIO working
#   make check      build, lint and run every guest test
#   make check-debug  the same, plus every boot on a KASAN/lockdep/kmemleak kernel
#   make mutants    break the driver on purpose, one way at a time: check must fail
#   make lint       sparse (C=2), W=1 and checkpatch --strict
#   make bench      stock vs ours benchmark table and chart
#   make fuzz       long fuzzer run (>= 1M calls)
#   make intree     overlay onto linux-source-6.12 and build there
#   make modules_install   install into /lib/modules/<kver>/updates
#   make dkms-install      register with DKMS (kept across kernel updates),
#                          install into /lib/modules/<kver>/updates/dkms
#   make dkms-remove       remove it again

SHELL := /bin/bash
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
KVER ?= $(shell $(TOP)/scripts/kver.sh)
KDIR ?= /usr/src/linux-headers-$(KVER)
# Caches that survive `git clean`: unpacked kernel source, KUnit builds
CACHE ?= $(HOME)/.cache/vfio-pci-core
BUILD ?= $(TOP)/build
export KVER KDIR CACHE BUILD

# Our Kconfig symbols, unknown to the target kernel's .config
# (scripts/lint.sh reads KCONFIG_EXTRA from here).  CONFIG_MLX5_VFIO_PF is
# built only where the target kernel has mlx5_core (drivers/vfio/pci/mlx5/).
KCONFIG_EXTRA := CONFIG_MLX5_VFIO_PCI=m CONFIG_MLX5_VFIO_SIM=m CONFIG_MLX5_VFIO_PF=m
KCONFIG_ARGS := CONFIG_VFIO_PCI_CORE=m CONFIG_VFIO_PCI=m $(KCONFIG_EXTRA)
KBUILD = $(MAKE) -C $(KDIR) M=$(TOP) $(KCONFIG_ARGS)

.PHONY: all modules deps clean lint check check-debug demo intree kunit tests \
	bench fuzz modules_install help mutants dkms-install dkms-remove

all: modules

deps:
	@$(TOP)/scripts/deps.sh

modules: deps
	+$(KBUILD) modules

modules_install: modules
	+$(KBUILD) INSTALL_MOD_DIR=updates modules_install

dkms-install: deps
	@$(TOP)/scripts/dkms.sh install

dkms-remove:
	@$(TOP)/scripts/dkms.sh remove

tests: deps
	+$(MAKE) -C $(TOP)/tools/testing/selftests/vfio OUTPUT=$(BUILD)/tests

lint: deps
	@$(TOP)/scripts/lint.sh

check: deps
	@$(TOP)/scripts/check.sh

check-debug: deps
	@CHECK_DEBUG=1 $(TOP)/scripts/check.sh

# MUTANTS="01 05" runs only those
mutants: deps
	@$(TOP)/scripts/mutants.sh $(MUTANTS)

demo: deps
	@$(TOP)/scripts/demo.sh

intree: deps
	@$(TOP)/scripts/intree-overlay.sh --build

bench: deps
	@$(TOP)/scripts/bench.sh

fuzz: deps modules tests
	@$(TOP)/scripts/guest-run.sh --devices "edu e1000e nvme ivshmem" \
		--test-timeout 3000 --timeout 3600 "fuzz_test -n $${FUZZ_CALLS:-300000}"
	@$(TOP)/scripts/guest-run.sh --devices "ivshmem=1M ivshmem=1M" \
		--modules "mlx5-vfio-sim mlx5-vfio-pci" --test-timeout 3000 --timeout 3600 \
		"fuzz_test -n $${FUZZ_CALLS:-300000} -m ivshmem ivshmem2"

kunit: deps
	@$(TOP)/scripts/kunit.sh

clean:
	-+[ -d "$(KDIR)" ] && $(KBUILD) clean
	rm -rf $(BUILD)

help:
	@sed -n 's/^#   //p' $(TOP)/Makefile
