package echo

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestHandler(t *testing.T) {
	const (
		badNoun     = "noun must be UTF-8 text without control characters\n"
		badMethod   = "method not allowed\n"
		tooLongNoun = "noun too long\n"
	)
	maxNoun := strings.Repeat("a", MaxNounBytes)
	maxNounUTF8 := strings.Repeat("é", MaxNounBytes/2) // 2 bytes per rune
	tests := []struct {
		method, target string
		status         int
		body           string
	}{
		{"GET", "/alpacas", 200, "I love alpacas!"},
		{"GET", "/caf%C3%A9", 200, "I love café!"},
		{"GET", "/hot%20dogs", 200, "I love hot dogs!"},
		{"GET", "/a/b", 200, "I love a/b!"},
		{"GET", "/alpacas?x=1", 200, "I love alpacas!"},
		{"GET", "/%3Cscript%3E", 200, "I love <script>!"},
		{"GET", "/", 200, usage},
		{"GET", "/" + maxNoun, 200, "I love " + maxNoun + "!"},
		{"GET", "/" + maxNounUTF8, 200, "I love " + maxNounUTF8 + "!"},
		{"GET", "/" + maxNoun + "a", 414, tooLongNoun},
		{"GET", "/" + maxNounUTF8 + "a", 414, tooLongNoun},
		{"GET", "/%ff", 400, badNoun},
		{"GET", "/caf%C3", 400, badNoun},
		{"GET", "/a%0Db", 400, badNoun},
		{"GET", "/a%0Ab", 400, badNoun},
		{"GET", "/%00", 400, badNoun},
		{"GET", "/%7F", 400, badNoun},
		{"GET", "/%C2%85", 400, badNoun}, // U+0085, a C1 control
		{"HEAD", "/alpacas", 200, ""},
		{"HEAD", "/%ff", 400, ""},
		{"POST", "/alpacas", 405, badMethod},
		{"PUT", "/alpacas", 405, badMethod},
		{"DELETE", "/alpacas", 405, badMethod},
		{"OPTIONS", "/alpacas", 405, badMethod},
		{"POST", "/%ff", 405, badMethod},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.target, nil)
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code != tt.status || body != tt.body {
			t.Errorf("%s %q = %d %q, want %d %q", tt.method, tt.target, rec.Code, body, tt.status, tt.body)
		}
		checkHeaders(t, tt.method, tt.target, rec.Result().Header)
		if tt.status == http.StatusMethodNotAllowed {
			if got := rec.Header().Get("Allow"); got != "GET, HEAD" {
				t.Errorf("%s %q: Allow = %q, want %q", tt.method, tt.target, got, "GET, HEAD")
			}
		}
	}
}

func TestHandlerHeadContentLength(t *testing.T) {
	req := httptest.NewRequest("HEAD", "/alpacas", nil)
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	want := "15" // len("I love alpacas!")
	if got := rec.Header().Get("Content-Length"); got != want {
		t.Errorf("HEAD %q: Content-Length = %q, want %q", "/alpacas", got, want)
	}
}

func checkHeaders(t *testing.T, method, target string, h http.Header) {
	t.Helper()
	if got, want := h.Get("Content-Type"), "text/plain; charset=utf-8"; got != want {
		t.Errorf("%s %q: Content-Type = %q, want %q", method, target, got, want)
	}
	if got, want := h.Get("X-Content-Type-Options"), "nosniff"; got != want {
		t.Errorf("%s %q: X-Content-Type-Options = %q, want %q", method, target, got, want)
	}
}

// FuzzHandler feeds the handler requests parsed the way the server parses
// them: "{method} {target} HTTP/1.1". Inputs that do not form a valid
// request line are skipped, as the server would reject them before the
// handler runs.
func FuzzHandler(f *testing.F) {
	f.Add("GET", "/alpacas")
	f.Add("GET", "/caf%C3%A9")
	f.Add("HEAD", "/a/b")
	f.Add("POST", "/alpacas")
	f.Add("GET", "/")
	f.Add("GET", "/%ff")
	f.Add("GET", "/a%0Db")
	f.Add("GET", "/"+strings.Repeat("a", MaxNounBytes+1))
	f.Fuzz(func(t *testing.T, method, target string) {
		line := method + " " + target + " HTTP/1.1\r\nHost: example.com\r\n\r\n"
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(line)))
		if err != nil {
			t.Skip()
		}
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, req)

		body := rec.Body.String()
		if rec.Code >= 500 {
			t.Fatalf("%s %q = %d %q, want status < 500", req.Method, target, rec.Code, body)
		}
		checkHeaders(t, req.Method, target, rec.Result().Header)
		if rec.Code != http.StatusOK || req.Method != http.MethodGet {
			return
		}
		noun := strings.TrimPrefix(req.URL.Path, "/")
		want := "I love " + noun + "!"
		if noun == "" {
			want = usage
		}
		if body != want {
			t.Fatalf("%s %q = %d %q, want %d %q", req.Method, target, rec.Code, body, http.StatusOK, want)
		}
		if len(noun) > MaxNounBytes || !utf8.ValidString(noun) || strings.ContainsFunc(noun, unicode.IsControl) {
			t.Fatalf("%s %q = %d %q, want noun rejected", req.Method, target, rec.Code, body)
		}
	})
}
