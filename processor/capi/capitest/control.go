package capitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// maxControlBody caps a PUT /_sim/faults body: a fault set is a few hundred bytes, a poisoned ID list a few KB.
const maxControlBody = 1 << 20

// serveControl answers the /_sim/ endpoints (see doc.go). Their answers are plain JSON, not Graph-shaped: they
// are the test harness talking, not Facebook.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_sim/faults":
		switch r.Method {
		case http.MethodGet:
			controlJSON(w, http.StatusOK, s.Faults())
		case http.MethodPut, http.MethodPost:
			var f Faults
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxControlBody))
			if err == nil {
				dec := json.NewDecoder(bytes.NewReader(body))
				dec.DisallowUnknownFields()
				err = dec.Decode(&f)
			}
			if err == nil {
				err = s.SetFaults(f)
			}
			if err != nil {
				controlError(w, http.StatusBadRequest, err)
				return
			}
			controlJSON(w, http.StatusOK, s.Faults())
		default:
			controlMethodNotAllowed(w, "GET, PUT, POST")
		}
	case "/_sim/events":
		if r.Method != http.MethodGet {
			controlMethodNotAllowed(w, "GET")
			return
		}
		events := s.Events()
		if pixel := r.URL.Query().Get("pixel_id"); pixel != "" {
			kept := events[:0]
			for _, ev := range events {
				if ev.PixelID == pixel {
					kept = append(kept, ev)
				}
			}
			events = kept
		}
		if events == nil {
			events = []ReceivedEvent{}
		}
		controlJSON(w, http.StatusOK, events)
	case "/_sim/event_ids":
		if r.Method != http.MethodGet {
			controlMethodNotAllowed(w, "GET")
			return
		}
		controlJSON(w, http.StatusOK, s.EventIDs())
	case "/_sim/stats":
		if r.Method != http.MethodGet {
			controlMethodNotAllowed(w, "GET")
			return
		}
		st := s.Stats()
		controlJSON(w, http.StatusOK, st)
	case "/_sim/reset":
		if r.Method != http.MethodPost {
			controlMethodNotAllowed(w, "POST")
			return
		}
		s.Reset()
		controlJSON(w, http.StatusOK, map[string]bool{"reset": true})
	default:
		controlError(w, http.StatusNotFound, errors.New("unknown control endpoint "+r.URL.Path))
	}
}

func controlJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		controlError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func controlError(w http.ResponseWriter, status int, err error) {
	b, _ := json.Marshal(map[string]string{"error": err.Error()})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func controlMethodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	controlError(w, http.StatusMethodNotAllowed, errors.New("method not allowed; use "+allow))
}
