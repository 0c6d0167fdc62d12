package echo

import (
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNounBytes is the longest noun, in bytes after URL decoding, that
// [Handler] echoes. Longer nouns get 414 URI Too Long.
const MaxNounBytes = 256

// usage is the body answered to GET / (an empty noun).
const usage = "usage: GET /{noun}\n"

// Handler returns the echo handler described in the package documentation.
func Handler() http.Handler {
	return http.HandlerFunc(serveEcho)
}

func serveEcho(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		reply(w, r, http.StatusMethodNotAllowed, "method not allowed\n")
		return
	}
	noun := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case noun == "":
		reply(w, r, http.StatusOK, usage)
	case len(noun) > MaxNounBytes:
		reply(w, r, http.StatusRequestURITooLong, "noun too long\n")
	case !utf8.ValidString(noun) || strings.ContainsFunc(noun, unicode.IsControl):
		reply(w, r, http.StatusBadRequest, "noun must be UTF-8 text without control characters\n")
	default:
		reply(w, r, http.StatusOK, "I love "+noun+"!")
	}
}

// reply writes a plain-text response. The body is omitted for HEAD
// requests, but Content-Length still reports its size.
func reply(w http.ResponseWriter, r *http.Request, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}
