package report

import (
	"crypto/sha256"
	"fmt"
)

// Realistic fixtures. Sizes add up: each image's SizeBytes is the sum of
// its history sizes. History is newest first, as docker prints it.

func i64(v int64) *int64     { return &v }
func f64(v float64) *float64 { return &v }

const (
	alpineRootfs  = 7_458_919   // alpine minirootfs
	caCerts       = 553_216     // apk add ca-certificates in golang:alpine
	goToolchain   = 241_045_873 // /usr/local/go copied into golang:alpine
	helloBinary   = 1_585_314
	echoBinary    = 5_759_138
	helloBuild    = 11_258_744 // binary + build cache left by go build
	echoModules   = 13_472_118 // go mod download
	echoBuild     = 47_316_802
	helloSingle   = alpineRootfs + caCerts + goToolchain + 52 + 1_403 + helloBuild
	echoSingle    = alpineRootfs + caCerts + goToolchain + 1_184 + echoModules + 2_915 + echoBuild
	helloAlpine   = alpineRootfs + helloBinary
	echoAlpine    = alpineRootfs + echoBinary
	golangAlpine  = "golang:1.26-alpine"
	alpineVersion = "alpine:3.23"
)

// golangAlpineHistory is the base image's own history, newest first.
func golangAlpineHistory() []Layer {
	return []Layer{
		{0, "WORKDIR /go"},
		{0, `RUN /bin/sh -c mkdir -p "$GOPATH/src" "$GOPATH/bin" && chmod -R 1777 "$GOPATH" # buildkit`},
		{0, "ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		{0, "ENV GOPATH=/go"},
		{goToolchain, "COPY /target/ / # buildkit"},
		{0, "ENV GOTOOLCHAIN=local"},
		{0, "ENV GOLANG_VERSION=1.26.0"},
		{caCerts, "RUN /bin/sh -c apk add --no-cache ca-certificates # buildkit"},
		{0, `/bin/sh -c #(nop)  CMD ["/bin/sh"]`},
		{alpineRootfs, "/bin/sh -c #(nop) ADD file:3f1c9a2b7d4e8f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718 in / "},
	}
}

func alpineHistory() []Layer {
	return []Layer{
		{0, `CMD ["/bin/sh"]`},
		{alpineRootfs, "ADD alpine-minirootfs-3.23.0-x86_64.tar.gz / # buildkit"},
	}
}

// Base digests, as registries serve them.
const (
	golangAlpineDigest = "sha256:8d1f9e3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6"
	alpineDigest       = "sha256:4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1"
)

// exposure is what each variant's final filesystem exposes: golang:alpine
// and alpine have busybox's /bin/sh and its setuid bbsuid; scratch has
// the binary alone.
func exposure(img *Image) {
	files, shell, setuid := map[string]int{"single-stage": 15_873, "alpine": 84, "scratch": 1}[img.Variant], img.Variant != "scratch", 0
	if shell {
		setuid = 1
	}
	img.Files, img.HasShell, img.SetuidFiles = &files, &shell, &setuid
	switch img.Base {
	case golangAlpine:
		img.BaseDigest, img.BaseDigestKind = golangAlpineDigest, DigestRepo
	case alpineVersion:
		img.BaseDigest, img.BaseDigestKind = alpineDigest, DigestRepo
	}
}

func fullMatrix() Report {
	r := fullMatrixSizes()
	for i := range r.Images {
		exposure(&r.Images[i])
	}
	return r
}

func fullMatrixSizes() Report {
	return Report{Engine: "Docker Engine 20.10.24, classic image store (overlay2)", Store: "classic", Images: []Image{
		{
			App: "hello", Variant: "single-stage", Image: "multistage/hello:single-stage",
			ID:     "sha256:9b2e41c07fa3d5e8c1b6a0f4e2d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1",
			Base:   golangAlpine,
			Status: OK, SizeBytes: helloSingle, CompressedBytes: i64(79_614_322), Layers: 8,
			BuildSeconds: f64(21.43), StartupSeconds: f64(0.412),
			History: append([]Layer{
				{0, `CMD ["/src/hello"]`},
				{helloBuild, "RUN /bin/sh -c CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o hello . # buildkit"},
				{1_403, "COPY . . # buildkit"},
				{52, "COPY go.mod ./ # buildkit"},
				{0, "WORKDIR /src"},
			}, golangAlpineHistory()...),
		},
		{
			App: "hello", Variant: "alpine", Image: "multistage/hello:alpine",
			ID:     "sha256:4c7d0e5f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5",
			Base:   alpineVersion,
			Status: OK, SizeBytes: helloAlpine, CompressedBytes: i64(4_312_875), Layers: 2,
			BuildSeconds: f64(18.9), StartupSeconds: f64(0.398),
			History: append([]Layer{
				{0, `ENTRYPOINT ["/hello"]`},
				{helloBinary, "COPY /src/hello /hello # buildkit"},
			}, alpineHistory()...),
		},
		{
			App: "hello", Variant: "scratch", Image: "multistage/hello:scratch",
			ID:     "sha256:e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70",
			Base:   "scratch",
			Status: OK, SizeBytes: helloBinary, CompressedBytes: i64(850_417), Layers: 1,
			User:         "65532:65532",
			BuildSeconds: f64(2.31), StartupSeconds: f64(0.371),
			History: []Layer{
				{0, `ENTRYPOINT ["/hello"]`},
				{0, "USER 65532:65532"},
				{helloBinary, "COPY /src/hello /hello # buildkit"},
			},
		},
		{
			App: "echo", Variant: "single-stage", Image: "multistage/echo:single-stage",
			ID:     "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
			Base:   golangAlpine,
			Status: OK, SizeBytes: echoSingle, CompressedBytes: i64(102_338_517), Layers: 9,
			BuildSeconds: f64(48.7), StartupSeconds: f64(0.523),
			History: append([]Layer{
				{0, `CMD ["/src/echo"]`},
				{0, "EXPOSE map[8080/tcp:{}]"},
				{echoBuild, "RUN /bin/sh -c CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o echo . # buildkit"},
				{2_915, "COPY . . # buildkit"},
				{echoModules, "RUN /bin/sh -c go mod download # buildkit"},
				{1_184, "COPY go.mod go.sum ./ # buildkit"},
				{0, "WORKDIR /src"},
			}, golangAlpineHistory()...),
		},
		{
			App: "echo", Variant: "alpine", Image: "multistage/echo:alpine",
			ID:     "sha256:5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4",
			Base:   alpineVersion,
			Status: OK, SizeBytes: echoAlpine, CompressedBytes: i64(6_790_144), Layers: 2,
			BuildSeconds: f64(33.2), StartupSeconds: f64(0.488),
			History: append([]Layer{
				{0, `ENTRYPOINT ["/echo"]`},
				{0, "EXPOSE map[8080/tcp:{}]"},
				{echoBinary, "COPY /src/echo /echo # buildkit"},
			}, alpineHistory()...),
		},
		{
			App: "echo", Variant: "scratch", Image: "multistage/echo:scratch",
			ID:     "sha256:c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b",
			Base:   "scratch",
			Status: OK, SizeBytes: echoBinary, CompressedBytes: i64(3_086_290), Layers: 1,
			User:         "65532:65532",
			BuildSeconds: f64(2.8), StartupSeconds: f64(0.467),
			History: []Layer{
				{0, `ENTRYPOINT ["/echo"]`},
				{0, "USER 65532:65532"},
				{0, "EXPOSE map[8080/tcp:{}]"},
				{echoBinary, "COPY /src/echo /echo # buildkit"},
			},
		},
	}}
}

// edit returns a copy of the full matrix with f applied to the image of the
// given app and variant.
func edit(r Report, app, variant string, f func(*Image)) Report {
	images := append([]Image(nil), r.Images...)
	for i := range images {
		if images[i].App == app && images[i].Variant == variant {
			f(&images[i])
		}
	}
	r.Images = images
	return r
}

// missingImage: echo's scratch image was never built; its row must not
// carry any figure.
func missingImage() Report {
	return edit(fullMatrix(), "echo", "scratch", func(img *Image) {
		*img = Image{
			App: "echo", Variant: "scratch", Image: "multistage/echo:scratch",
			Base: "scratch", Status: Missing,
			Error: "No such image: multistage/echo:scratch",
			// Stale figures from an earlier run must not leak into the report.
			SizeBytes: 5_759_138, Layers: 1, CompressedBytes: i64(3_086_290),
		}
	})
}

// failedVariant: hello alpine failed to build (shown, not dropped), and
// echo's single-stage baseline failed so echo has no "vs single-stage".
func failedVariant() Report {
	r := edit(fullMatrix(), "hello", "alpine", func(img *Image) {
		img.Status = Failed
		img.ID = ""
		img.Error = "docker build: exit status 1: failed to solve: alpine:3.23: failed to resolve source metadata\n(network unreachable)"
	})
	return edit(r, "echo", "single-stage", func(img *Image) {
		img.Status = Failed
		img.Error = "docker build: exit status 1: RUN go mod download: dial tcp: lookup the module proxy: no such host"
	})
}

// standInBase: built offline, the alpine bases are local stand-ins.
// standInBase: offline stand-ins on the containerd image store, where
// docker's own figure adds the stored compressed layers to the snapshots.
func standInBase() Report {
	r := fullMatrix()
	r.Engine, r.Store = "Docker Engine 29.8.0, containerd image store (overlayfs)", "containerd"
	r.Images = append([]Image(nil), r.Images...)
	for i := range r.Images {
		if c := r.Images[i].CompressedBytes; c != nil {
			r.Images[i].DockerSizeBytes = r.Images[i].SizeBytes + *c
		}
	}
	for _, v := range []string{"hello", "echo"} {
		r = edit(r, v, "single-stage", func(img *Image) {
			img.Base = "multistage/standin-golang:1.26-alpine"
			img.BaseNote = "offline stand-in for golang:1.26-alpine"
			img.BaseDigest, img.BaseDigestKind = "sha256:0b555a24d2e2cdf990af3c0d7a1498023215494e285497ddc779df66952ac650", DigestImageID
			shell, setuid := false, 0 // the Go stand-in has no busybox
			img.HasShell, img.SetuidFiles = &shell, &setuid
		})
		r = edit(r, v, "alpine", func(img *Image) {
			img.Base = "multistage/standin-alpine:3.23"
			img.BaseNote = "offline stand-in for alpine:3.23"
			img.BaseDigest, img.BaseDigestKind = "sha256:53ee357cbb9497f9a651fe4771ae7f0590c3b70d21973cf79a95c01cee27f9be", DigestImageID
		})
	}
	return r
}

// remoteBuilder: built on a standalone BuildKit (the remote driver), the
// stand-ins pushed to a registry on loopback and pinned by the digest it
// serves; the engine's own builder is named in every other report.
func remoteBuilder() Report {
	r := fullMatrix()
	r.Builder = &Builder{Name: "multistage-ci", Driver: "remote", Endpoint: "unix:///run/multistage-buildkit/ci/buildkitd.sock", Version: "v0.34.2"}
	for _, v := range []string{"hello", "echo"} {
		r = edit(r, v, "single-stage", func(img *Image) {
			img.Base = "127.0.0.1:5000/multistage-standin/go:go1.26.8"
			img.BaseNote = "offline stand-in for golang:1.26-alpine: the local Go toolchain go1.26.8, no shell"
			img.BaseDigest, img.BaseDigestKind = "sha256:3f1c0a9e53b3a2c54f1d8a4f6a1d67f1c4e0a6f4e2b8c1d9e7f3a5b2c4d6e8f0", DigestRepo
		})
	}
	return r
}

// unknownFigures: images built by an earlier run (no build time), not
// saved (no compressed size), not run (no start-up time), one without
// history.
func unknownFigures() Report {
	r := fullMatrix()
	for i := range r.Images {
		r.Images[i].CompressedBytes = nil
		r.Images[i].BuildSeconds = nil
		r.Images[i].StartupSeconds = nil
	}
	r = edit(r, "hello", "scratch", func(img *Image) { img.Files, img.HasShell, img.SetuidFiles = nil, nil, nil })
	r = edit(r, "hello", "alpine", func(img *Image) { img.BaseDigest, img.BaseDigestKind = "", "" })
	return edit(r, "echo", "alpine", func(img *Image) { img.History = nil })
}

// againstBaseline: the full matrix with echo alpine failed, against an
// earlier report where hello scratch was smaller, hello alpine failed,
// echo single-stage was 12 bytes lighter, echo scratch did not exist yet
// and a hello distroless variant did.
func againstBaseline() Report {
	r := edit(fullMatrix(), "echo", "alpine", func(img *Image) {
		img.Status, img.Error = Failed, "verifying: GET /alpacas: connection refused"
	})
	r.Baseline = &Baseline{
		File:   "artefacts/main/report.json",
		Engine: "Docker Engine 29.8.0, containerd image store (overlayfs)",
		Images: []BaselineImage{
			{App: "hello", Variant: "single-stage", Image: "multistage/hello:single-stage", Status: OK, SizeBytes: i64(helloSingle), CompressedBytes: i64(79_614_322 + 1_024)},
			{App: "hello", Variant: "alpine", Image: "multistage/hello:alpine", Status: Failed},
			{App: "hello", Variant: "scratch", Image: "multistage/hello:scratch", Status: OK, SizeBytes: i64(helloBinary - 200_000), CompressedBytes: i64(850_417 - 100_000)},
			{App: "hello", Variant: "distroless", Image: "multistage/hello:distroless", Status: OK, SizeBytes: i64(3_700_000), CompressedBytes: i64(1_800_000)},
			{App: "echo", Variant: "single-stage", Image: "multistage/echo:single-stage", Status: OK, SizeBytes: i64(echoSingle - 12), CompressedBytes: i64(102_338_517)},
			{App: "echo", Variant: "alpine", Image: "multistage/echo:alpine", Status: OK, SizeBytes: i64(echoAlpine), CompressedBytes: i64(6_790_144)},
		},
	}
	return r
}

// A two-platform run (PLATFORMS=linux/amd64,linux/arm64) on an amd64
// engine with qemu's binfmt_misc handlers, offline: each platform's bases
// are its own stand-ins. The amd64 rows are those of the real report in
// docs/report.md; arm64 has no static busybox here, so its alpine images
// are on the shell-less minimal root filesystem. The arm64 images ran
// under emulation, and their single-stage builds compiled under it, while
// the multi-stage builds cross-compiled on amd64.
const (
	goStandIn      = 232_512_557 // the local Go toolchain, imported
	goStandInArm64 = 226_871_304 // Go's linux/arm64 download, imported
	busyboxRootfs  = 2_203_833   // Debian's static busybox and the usual files
	minimalRootfs  = 219_764     // /etc/passwd, /etc/group, CA certificates
	buildLeftover  = 65_868      // what go build leaves in the image beside the binary
	helloAmd64     = 1_585_314
	echoAmd64      = 5_771_426
	helloArm64     = 1_573_026
	echoArm64      = 5_701_794
)

func singleStageHistory(app string, arch string, binary int64, base int64) []Layer {
	return []Layer{
		{0, `ENTRYPOINT ["/usr/local/bin/app"]`},
		{binary + buildLeftover, "RUN |3 APP=" + app + " TARGETOS=linux TARGETARCH=" + arch + " go build -trimpath -ldflags=-s -w -o /usr/local/bin/app . # buildkit"},
		{0, "WORKDIR /src/" + app},
		{0, "ENV CGO_ENABLED=0 GOOS=linux GOARCH=" + arch + " GOTOOLCHAIN=local GOPROXY=off GOCACHE=/root/.cache/go-build"},
		{0, "ARG APP TARGETOS TARGETARCH"},
		{base, ""},
	}
}

func alpineStandInHistory(binary, rootfs int64) []Layer {
	return []Layer{
		{0, `ENTRYPOINT ["/usr/local/bin/app"]`},
		{0, "USER nobody:nobody"},
		{binary, "COPY /usr/local/bin/app /usr/local/bin/app # buildkit"},
		{rootfs, ""},
	}
}

func scratchHistory(binary int64) []Layer {
	return []Layer{
		{0, `ENTRYPOINT ["/app"]`},
		{0, "USER 65532:65532"},
		{binary, "COPY /usr/local/bin/app /app # buildkit"},
	}
}

func twoPlatforms() Report {
	const (
		goNote       = "offline stand-in for golang:1.26-alpine: the local Go toolchain go1.26.8, no shell"
		goNoteArm64  = "offline stand-in for golang:1.26-alpine: Go go1.26.8 for linux/arm64, no shell"
		busyboxNote  = "offline stand-in for alpine:3.22: Debian's static busybox 1.35.0"
		minimalNote  = "offline stand-in for alpine:3.22: a minimal root filesystem with no shell"
		goID         = "sha256:b0bfab2e833ab6351925e56cce510917bb1ea72c70b839b387e08ef0bdbe45f9"
		goIDArm64    = "sha256:5e02c7a1d94b38f6a0e1c2d3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b"
		busyboxID    = "sha256:9530b7f6d6010b0c9fa686715cc0a34c9fe9c61a5f16ce274b2aa565bae67198"
		minimalIDArm = "sha256:c41d7a90e2b35f6877a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0"
	)
	n := func(v int) *int { return &v }
	no, yes := false, true
	image := func(app, dir, variant, platform string, emulated bool, size int64, comp int64, layers int, user string, build, start float64, files int, shell *bool, history []Layer) Image {
		tag := "multistage/" + dir + ":" + variant
		if emulated {
			tag += "-arm64"
		}
		return Image{App: app, Variant: variant, Image: tag, Platform: platform, Emulated: emulated,
			Status: OK, Check: Verified, SizeBytes: size, CompressedBytes: i64(comp), Layers: layers, User: user,
			BuildSeconds: f64(build), StartupSeconds: f64(start), Files: n(files), HasShell: shell, SetuidFiles: n(0),
			History: history}
	}
	onBase := func(img Image, base, note, id string) Image {
		img.Base, img.BaseNote, img.BaseDigest, img.BaseDigestKind = base, note, id, DigestImageID
		return img
	}
	scratch := func(img Image) Image { img.Base = "scratch"; return img }
	amd, arm := "linux/amd64", "linux/arm64"
	images := []Image{
		onBase(image("hello", "hello", "single-stage", amd, false, goStandIn+helloAmd64+buildLeftover, 68_027_352, 3, "", 8.1, 0.753, 15_043, &no,
			singleStageHistory("hello", "amd64", helloAmd64, goStandIn)), "multistage-standin/go:go1.26.8", goNote, goID),
		onBase(image("hello", "hello", "alpine", amd, false, busyboxRootfs+helloAmd64, 1_916_557, 2, "nobody:nobody", 0.951, 0.550, 5, &yes,
			alpineStandInHistory(helloAmd64, busyboxRootfs)), "multistage-standin/busybox:1.35.0", busyboxNote, busyboxID),
		scratch(image("hello", "hello", "scratch", amd, false, helloAmd64, 719_831, 1, "65532:65532", 1.2, 0.549, 1, &no, scratchHistory(helloAmd64))),
		onBase(image("hello", "hello", "single-stage", arm, true, goStandInArm64+helloArm64+buildLeftover, 66_143_281, 3, "", 118.3, 0.981, 14_987, &no,
			singleStageHistory("hello", "arm64", helloArm64, goStandInArm64)), "multistage-standin/go:go1.26.8-linux-arm64", goNoteArm64, goIDArm64),
		onBase(image("hello", "hello", "alpine", arm, true, minimalRootfs+helloArm64, 815_377, 2, "nobody:nobody", 6.41, 0.802, 4, &no,
			alpineStandInHistory(helloArm64, minimalRootfs)), "multistage-standin/rootfs:minimal-linux-arm64", minimalNote, minimalIDArm),
		scratch(image("hello", "hello", "scratch", arm, true, helloArm64, 683_912, 1, "65532:65532", 6.18, 0.797, 1, &no, scratchHistory(helloArm64))),
		onBase(image("echo", "echo_app", "single-stage", amd, false, goStandIn+echoAmd64+buildLeftover, 69_795_208, 3, "", 9.0, 0.735, 15_043, &no,
			singleStageHistory("echo_app", "amd64", echoAmd64, goStandIn)), "multistage-standin/go:go1.26.8", goNote, goID),
		onBase(image("echo", "echo_app_multistage", "alpine", amd, false, busyboxRootfs+echoAmd64, 3_663_830, 2, "nobody:nobody", 1.0, 0.588, 5, &yes,
			alpineStandInHistory(echoAmd64, busyboxRootfs)), "multistage-standin/busybox:1.35.0", busyboxNote, busyboxID),
		scratch(image("echo", "echo_app_multistage", "scratch", amd, false, echoAmd64, 2_467_136, 1, "65532:65532", 2.6, 0.545, 1, &no, scratchHistory(echoAmd64))),
		onBase(image("echo", "echo_app", "single-stage", arm, true, goStandInArm64+echoArm64+buildLeftover, 67_912_604, 3, "", 131.6, 1.412, 14_987, &no,
			singleStageHistory("echo_app", "arm64", echoArm64, goStandInArm64)), "multistage-standin/go:go1.26.8-linux-arm64", goNoteArm64, goIDArm64),
		onBase(image("echo", "echo_app_multistage", "alpine", arm, true, minimalRootfs+echoArm64, 2_532_702, 2, "nobody:nobody", 7.93, 1.203, 4, &no,
			alpineStandInHistory(echoArm64, minimalRootfs)), "multistage-standin/rootfs:minimal-linux-arm64", minimalNote, minimalIDArm),
		scratch(image("echo", "echo_app_multistage", "scratch", arm, true, echoArm64, 2_401_377, 1, "65532:65532", 7.62, 1.187, 1, &no, scratchHistory(echoArm64))),
	}
	for i := range images {
		images[i].ID = fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(images[i].Image)))
	}
	return Report{
		Engine:  "Docker Engine 20.10.24+dfsg1, classic image store (fuse-overlayfs)",
		Store:   "classic",
		Builder: &Builder{Name: "default", Driver: "docker", Version: "v0.8+unknown"},
		Images:  images,
	}
}
