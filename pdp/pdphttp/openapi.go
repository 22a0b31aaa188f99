package pdphttp

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/api"
)

// PathOpenAPI is where the decision listener serves its OpenAPI document.
const PathOpenAPI = "/openapi.json"

// openAPI answers GET /openapi.json with the committed document (package
// api). It needs no client key — it is the contract clients are generated
// from — and is cacheable: it changes only with the binary, and the ETag
// lets a client revalidate it for free.
func (s *Server) openAPI(c echo.Context) error {
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "public, max-age=3600")
	h.Set("ETag", api.ETag())
	if c.Request().Header.Get("If-None-Match") == api.ETag() {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, api.OpenAPI())
}
