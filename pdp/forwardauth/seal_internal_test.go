package forwardauth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealerRotation(t *testing.T) {
	oldKey, newKey, otherKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	before, err := newSealer([][]byte{oldKey})
	if err != nil {
		t.Fatal(err)
	}
	during, err := newSealer([][]byte{newKey, oldKey})
	if err != nil {
		t.Fatal(err)
	}
	after, err := newSealer([][]byte{newKey})
	if err != nil {
		t.Fatal(err)
	}
	other, err := newSealer([][]byte{otherKey})
	if err != nil {
		t.Fatal(err)
	}
	in := Session{ID: "fa_1", Subject: "alice", Host: "app.example", Client: "nginx", Expires: 99}
	oldCookie, err := before.seal("stepgate_session", in)
	if err != nil {
		t.Fatal(err)
	}
	var out Session
	if err := during.open("stepgate_session", oldCookie, &out); err != nil || out.Subject != "alice" {
		t.Fatalf("a cookie of the previous key during rotation: %v, %+v", err, out)
	}
	newCookie, err := during.seal("stepgate_session", in)
	if err != nil {
		t.Fatal(err)
	}
	if err := after.open("stepgate_session", newCookie, &out); err != nil {
		t.Fatalf("the newest key seals during rotation, but its cookie does not open after: %v", err)
	}
	for name, tc := range map[string]struct {
		s       *sealer
		purpose string
		value   string
	}{
		"retired key":      {after, "stepgate_session", oldCookie},
		"another stepgate": {other, "stepgate_session", newCookie},
		"another purpose":  {after, "stepgate_session_pending", newCookie},
		"tampered":         {after, "stepgate_session", newCookie[:len(newCookie)-3] + flip(newCookie[len(newCookie)-3:])},
		"no key id":        {after, "stepgate_session", strings.SplitN(newCookie, ".", 2)[1]},
		"not base64":       {after, "stepgate_session", strings.SplitN(newCookie, ".", 2)[0] + ".!!!"},
		"plain JSON as-is": {after, "stepgate_session", `{"sub":"alice"}`},
	} {
		if err := tc.s.open(tc.purpose, tc.value, &out); !errors.Is(err, ErrBadCookie) {
			t.Errorf("%s: open = %v, want ErrBadCookie", name, err)
		}
	}
	if _, err := newSealer([][]byte{[]byte("short")}); err == nil {
		t.Error("a 5-byte key was accepted")
	}
	if _, err := newSealer(nil); err == nil {
		t.Error("no keys were accepted")
	}
}

func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}
