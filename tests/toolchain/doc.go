// Package toolchain tests the end-to-end tool installer (tests/e2e/env/tools.sh) without the
// internet: a loopback server plays the official release pages, and the tests check that the
// script takes a release whose checksum matches, refuses one whose checksum does not, and falls
// back to building when the releases are unreachable. It also checks that every tool version
// is pinned once (tests/e2e/env/versions.env) and that the tool modules' go.mod files agree.
package toolchain
