// Copyright 2021 FerretDB Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

package sqlite

import (
	"fmt"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// prepareSelectClause returns SELECT clause for default column of provided table name.
//
// For capped collection with onlyRecordIDs, it returns select clause for recordID column.
//
// For capped collection, it returns select clause for recordID column and default column.
func prepareSelectClause(table, comment string, capped, onlyRecordIDs bool) string {
	comment = prepareComment(comment)

	if capped && onlyRecordIDs {
		return fmt.Sprintf(`SELECT %s %s FROM %q`, comment, metadata.RecordIDColumn, table)
	}

	if capped {
		return fmt.Sprintf(`SELECT %s %s, %s FROM %q`, comment, metadata.RecordIDColumn, metadata.DefaultColumn, table)
	}

	return fmt.Sprintf(`SELECT %s %s FROM %q`, comment, metadata.DefaultColumn, table)
}

// prepareComment returns comment as an SQL comment, or an empty string.
func prepareComment(comment string) string {
	if comment == "" {
		return ""
	}

	comment = strings.ReplaceAll(comment, "/*", "/ *")
	comment = strings.ReplaceAll(comment, "*/", "* /")

	return `/* ` + comment + ` */`
}

// prepareOrderByClause returns ORDER BY clause for given sort document.
//
// The provided sort document should be already validated.
// Provided document should only contain a single value.
func prepareOrderByClause(sort *types.Document) string {
	if sort.Len() != 1 {
		return ""
	}

	v := must.NotFail(sort.Get("$natural"))
	var order string

	switch v.(int64) {
	case 1:
		// Ascending order
	case -1:
		order = " DESC"
	default:
		panic("not reachable")
	}

	return fmt.Sprintf(" ORDER BY %s%s", metadata.RecordIDColumn, order)
}

// prepareWhereClause returns WHERE clause (possibly empty) and its arguments for the given filter,
// and whether the filter lets through only documents whose _id is an ObjectID.
//
// Conditions on _id are pushed down whatever else the filter holds,
// because that is what the _id index can answer;
// so are equalities of other fields with some strings (see prepareFieldEqualities),
// which spare decoding documents that can not match.
// The clause may select more documents than the filter matches
// (for example, a string _id equal to an ObjectID's hex form),
// but never fewer: callers filter the returned documents again
// with the whole filter, as the find, count, update, delete and findAndModify handlers do.
func prepareWhereClause(filter *types.Document) (string, []any, bool) {
	conds, args, onlyObjectIDs := prepareWhereConditions(filter, "")

	if len(conds) == 0 {
		return "", nil, onlyObjectIDs
	}

	return ` WHERE ` + strings.Join(conds, " AND "), args, onlyObjectIDs
}

// prepareWhereConditions returns the conditions of prepareWhereClause, to be joined with AND,
// leaving out the equality of the field named skip (see prepareSplitQuery).
func prepareWhereConditions(filter *types.Document, skip string) ([]string, []any, bool) {
	v, _ := filter.Get("_id")

	var conds []string
	var args []any
	var onlyObjectIDs bool

	switch v := v.(type) {
	case string:
		conds = []string{metadata.IDColumn + ` = ?`}
		args = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}

	case types.ObjectID:
		conds = []string{metadata.IDColumn + ` = ?`}
		args = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}
		onlyObjectIDs = true

	case *types.Document:
		conds, args, onlyObjectIDs = prepareIDOperators(v)
	}

	fieldConds, fieldArgs := prepareFieldEqualities(filter, skip)
	conds = append(conds, fieldConds...)
	args = append(args, fieldArgs...)

	return conds, args, onlyObjectIDs
}

// idComparisons maps the comparison operators pushed down for an ObjectID operand to SQL.
//
// ObjectIDs are stored as JSON strings of 24 lowercase hex digits,
// so SQLite's text (BINARY) order of their JSON is the byte order MongoDB compares them by.
// Strings are not compared with <, <=, > or >=: JSON escaping (\u003c for '<', and so on)
// does not keep their byte order.
var idComparisons = map[string]string{
	"$eq":  "=",
	"$lt":  "<",
	"$lte": "<=",
	"$gt":  ">",
	"$gte": ">=",
}

// prepareIDOperators returns SQL conditions and their arguments for the value of _id in a filter
// if that value is an operator document such as {$lt: ObjectID(...)},
// and whether those operators let through only ObjectIDs.
//
// A comparison with an ObjectID operand matches only ObjectIDs (comparisons are type-bracketed),
// as does {$type: "objectId"}.
// Other operators are left to the handler.
func prepareIDOperators(ops *types.Document) ([]string, []any, bool) {
	for _, k := range ops.Keys() {
		if !strings.HasPrefix(k, "$") {
			// {_id: {a: 1}} is a document to compare with, not operators
			return nil, nil, false
		}
	}

	var conds []string
	var args []any
	var onlyObjectIDs bool

	values := ops.Values()

	for i, k := range ops.Keys() {
		switch v := values[i].(type) {
		case types.ObjectID:
			op, ok := idComparisons[k]
			if !ok {
				continue
			}

			conds = append(conds, fmt.Sprintf(`%s %s ?`, metadata.IDColumn, op))
			args = append(args, string(must.NotFail(sjson.MarshalSingleValue(v))))
			onlyObjectIDs = true

		case string:
			switch {
			case k == "$eq":
				conds = append(conds, metadata.IDColumn+` = ?`)
				args = append(args, string(must.NotFail(sjson.MarshalSingleValue(v))))
			case k == "$type" && v == "objectId":
				onlyObjectIDs = true
			}

		case int32, int64, float64:
			// {$type: 7}
			if k == "$type" && types.Compare(v, int32(7)) == types.Equal {
				onlyObjectIDs = true
			}
		}
	}

	return conds, args, onlyObjectIDs
}

// prepareIDOrderByClause returns ORDER BY clause for QueryParams.SortByID,
// or an empty string if SQLite's order could differ from MongoDB's.
//
// That is the case unless the filter lets through only ObjectIDs:
// other types of _id would sort among them by their JSON text
// (strings and binData, for example, are JSON strings too),
// not by MongoDB's order of types.
func prepareIDOrderByClause(sortByID int64, onlyObjectIDs bool) string {
	if sortByID == 0 || !onlyObjectIDs {
		return ""
	}

	var order string
	if sortByID < 0 {
		order = " DESC"
	}

	return fmt.Sprintf(" ORDER BY %s%s", metadata.IDColumn, order)
}

// prepareFieldEqualities returns SQL conditions and their arguments
// for the top-level {field: "string"} equalities of the filter other than _id,
// such as {userId: "u1", status: "PAID"}.
//
// Each condition selects the documents where the field is that string or an array
// (which the handler checks for the string), so it is never narrower than the filter.
// Only fields named like identifiers and strings that JSON encodes verbatim are pushed down:
// those compare equal as JSON text exactly when they are equal.
func prepareFieldEqualities(filter *types.Document, skip string) ([]string, []any) {
	var conds []string
	var args []any

	values := filter.Values()

	for i, k := range filter.Keys() {
		v, ok := pushableEquality(k, values[i])
		if !ok || k == skip {
			continue
		}

		conds = append(conds, fmt.Sprintf(
			`(%[1]s->? = ? OR json_type(%[1]s, ?) = 'array')`,
			metadata.DefaultColumn,
		))
		args = append(args, k, string(must.NotFail(sjson.MarshalSingleValue(v))), "$."+k)
	}

	return conds, args
}

// pushableEquality returns the string of a top-level {k: "string"} equality
// that prepareFieldEqualities pushes down, and whether it is one.
func pushableEquality(k string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok || k == "_id" || !isPlainName(k) || !isVerbatimJSONString(s) {
		return "", false
	}

	return s, true
}

// isPlainName reports whether s is a field name SQLite's JSON path can use unquoted.
func isPlainName(s string) bool {
	if s == "" {
		return false
	}

	for i, c := range s {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}

	return true
}

// isVerbatimJSONString reports whether s is printable ASCII that encoding/json
// (and so sjson) writes without escapes: no '"', '\\', '<', '>' or '&'.
func isVerbatimJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || strings.IndexByte(`"\<>&`, c) >= 0 {
			return false
		}
	}

	return true
}
