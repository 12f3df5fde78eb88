package ecr

import (
	"fmt"
	"net/http"

	"github.com/posrt/posrt/runtime/books"
)

// ExportHandler serves GET /v1/export?format=csv|xlsx&<the filters of
// /v1/transactions>: the books of the records the filters select, streamed
// as they are read (books.Export). A malformed query is answered 400
// before anything is written; an error once the file has started aborts
// the connection, so the client never takes a cut file for a whole one.
func ExportHandler(h History) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f, err := ParseFilter(q, h.Location(), "format")
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		format, err := books.ParseFormat(q.Get("format"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		w.Header().Set("Content-Type", format.ContentType())
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="posrt-books.%s"`, format))
		if _, err := books.ExportWith(r.Context(), w, h, f, format, books.Options{Location: h.Location()}); err != nil {
			// The status is sent: abort the connection, so that the client
			// sees a broken transfer rather than a short file that ends
			// well (net/http logs the abort).
			panic(http.ErrAbortHandler)
		}
	}
}
