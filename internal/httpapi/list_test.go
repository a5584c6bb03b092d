package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
)

type listBody struct {
	Orders  []orderBody `json:"orders"`
	HasMore bool        `json:"has_more"`
}

func TestListOrders(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	var ids []string // oldest first
	for i := range 5 {
		user := "alice"
		if i%2 == 1 {
			user = "bob"
		}
		rec := a.postOrder(fmt.Sprintf("k-list-%d", i), fmt.Sprintf(`{"userId":%q,"amount":%d,"currency":"EUR"}`, user, 100+i))
		if rec.Code != http.StatusCreated {
			t.Fatalf("create %d: %d %s", i, rec.Code, rec.Body)
		}
		ids = append(ids, decode[orderBody](t, rec).ID)
	}

	all := decode[listBody](t, a.do(request{method: "GET", path: "/orders"}))
	if len(all.Orders) != 5 || all.HasMore || all.Orders[0].ID != ids[4] || all.Orders[4].ID != ids[0] {
		t.Fatalf("list all: %+v", all)
	}

	// Page through two at a time with the cursor.
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		path := "/orders?limit=2"
		if cursor != "" {
			path += "&starting_after=" + cursor
		}
		p := decode[listBody](t, a.do(request{method: "GET", path: path}))
		for _, o := range p.Orders {
			seen = append(seen, o.ID)
		}
		if !p.HasMore {
			break
		}
		cursor = p.Orders[len(p.Orders)-1].ID
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}) {
		t.Fatalf("paged ids %v, want newest first %v", seen, ids)
	}

	bob := decode[listBody](t, a.do(request{method: "GET", path: "/orders?userId=bob&status=PAID"}))
	if len(bob.Orders) != 2 || bob.Orders[0].UserID != "bob" || bob.Orders[1].UserID != "bob" {
		t.Fatalf("filter by user: %+v", bob)
	}
	if none := decode[listBody](t, a.do(request{method: "GET", path: "/orders?status=PAYMENT_FAILED"})); len(none.Orders) != 0 {
		t.Fatalf("filter by status: %+v", none)
	}

	bad := []struct{ query, param string }{
		{"limit=0", "limit"}, {"limit=101", "limit"}, {"limit=abc", "limit"},
		{"status=LOST", "status"}, {"starting_after=zzz", "starting_after"},
	}
	for _, tt := range bad {
		rec := a.do(request{method: "GET", path: "/orders?" + tt.query})
		if e := decode[apiError](t, rec); rec.Code != http.StatusUnprocessableEntity || e.Error.Param != tt.param {
			t.Errorf("%s: %d %+v", tt.query, rec.Code, e)
		}
	}
}
