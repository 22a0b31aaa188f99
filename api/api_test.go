package api_test

import (
	"encoding/json"
	"testing"

	"github.com/stepgate/stepgate/api"
	"github.com/stepgate/stepgate/api/apitest"
)

// TestDocumentIsValid checks the committed document against the OpenAPI
// 3.1 meta-schema and that the validator accepts it.
func TestDocumentIsValid(t *testing.T) {
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if _, err := apitest.New(api.OpenAPI()); err != nil {
		t.Fatal(err)
	}
}

func TestETagIsStableAndQuoted(t *testing.T) {
	e := api.ETag()
	if e != api.ETag() || len(e) != 34 || e[0] != '"' || e[len(e)-1] != '"' {
		t.Errorf("ETag = %s", e)
	}
}

// TestCheckerRefusesAnInvalidDocument shows that New checks the document
// itself: a response without its required description is not OpenAPI.
func TestCheckerRefusesAnInvalidDocument(t *testing.T) {
	doc := `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{}}}}}}`
	if _, err := apitest.New([]byte(doc)); err == nil {
		t.Error("an invalid document was accepted")
	}
}
