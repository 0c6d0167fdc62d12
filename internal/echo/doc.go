// Package echo implements the "I love {noun}!" HTTP server shared by the
// echo_app and echo_app_multistage commands.
//
// [Handler] answers GET and HEAD requests for /{noun} with 200 and the body
// "I love {noun}!". The noun is everything in the URL-decoded path after the
// leading slash, so nested paths are echoed whole: GET /a/b answers
// "I love a/b!". The query string is ignored.
//
// Every response, errors included, is plain text
// ("Content-Type: text/plain; charset=utf-8") with
// "X-Content-Type-Options: nosniff", so an echoed noun is never interpreted
// as HTML. Other cases:
//
//   - GET / (empty noun): 200 with a short usage text.
//   - a noun longer than [MaxNounBytes] bytes: 414 URI Too Long.
//   - a noun that is not valid UTF-8 or contains a control character
//     (see unicode.IsControl, e.g. \x00, \r, \n, \x7f): 400 Bad Request;
//     the noun is not echoed.
//   - any method other than GET or HEAD: 405 with "Allow: GET, HEAD".
//
// [Run] and [Serve] run the handler in an [http.Server] built by [NewServer]
// and shut it down gracefully when their context is cancelled.
package echo
