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
	if comment != "" {
		comment = strings.ReplaceAll(comment, "/*", "/ *")
		comment = strings.ReplaceAll(comment, "*/", "* /")
		comment = `/* ` + comment + ` */`
	}

	if capped && onlyRecordIDs {
		return fmt.Sprintf(`SELECT %s %s FROM %q`, comment, metadata.RecordIDColumn, table)
	}

	if capped {
		return fmt.Sprintf(`SELECT %s %s, %s FROM %q`, comment, metadata.RecordIDColumn, metadata.DefaultColumn, table)
	}

	return fmt.Sprintf(`SELECT %s %s FROM %q`, comment, metadata.DefaultColumn, table)
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
// Only conditions on _id are pushed down, whatever else the filter holds,
// because that is what the _id index can answer.
// The clause may select more documents than the filter matches
// (for example, a string _id equal to an ObjectID's hex form),
// but never fewer: callers filter the returned documents again
// with the whole filter, as the find, count, update, delete and findAndModify handlers do.
func prepareWhereClause(filter *types.Document) (string, []any, bool) {
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

	if len(conds) == 0 {
		return "", nil, onlyObjectIDs
	}

	return ` WHERE ` + strings.Join(conds, " AND "), args, onlyObjectIDs
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
