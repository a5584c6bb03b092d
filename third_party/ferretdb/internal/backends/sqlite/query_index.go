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
	"slices"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// sortIDColumn is the second result column of a split query sorted by _id:
// a compound SELECT can be ordered only by one of its result columns.
const sortIDColumn = backends.ReservedPrefix + "sort_id"

// selectQuery is a query without its LIMIT, as Query runs it and Explain explains it.
type selectQuery struct {
	sql            string
	args           []any
	filterPushdown bool // some of the filter is in the WHERE clause
	sortPushdown   bool // SQLite orders the rows ($natural or _id)
	sortedByID     bool // SQLite orders the rows by _id (QueryResult.SortedByID)
}

// prepareQuery returns the query for a filter, a $natural sort or an _id sort (see QueryParams.SortByID).
//
// When the filter has a pushed-down string equality on a field that leads one of the collection's
// indexes, and no _id equality, the query is split so that SQLite can use that index
// (see prepareSplitQuery). Otherwise it is one SELECT with prepareWhereClause.
func prepareQuery(meta *metadata.Collection, filter, sort *types.Document, sortByID int64, comment string, onlyRecordIDs bool) selectQuery {
	orderBy := prepareOrderByClause(sort)

	if orderBy == "" && !meta.Capped() && !hasIDEquality(filter) {
		if field, value, ok := indexedEquality(filter, meta.Settings.Indexes); ok {
			return prepareSplitQuery(meta.TableName, comment, filter, sortByID, field, value)
		}
	}

	where, args, onlyObjectIDs := prepareWhereClause(filter)

	var sortedByID bool
	if orderBy == "" {
		orderBy = prepareIDOrderByClause(sortByID, onlyObjectIDs)
		sortedByID = orderBy != ""
	}

	return selectQuery{
		sql:            prepareSelectClause(meta.TableName, comment, meta.Capped(), onlyRecordIDs) + where + orderBy,
		args:           args,
		filterPushdown: where != "",
		sortPushdown:   orderBy != "",
		sortedByID:     sortedByID,
	}
}

// prepareSplitQuery returns the query for a filter with the string equality {field: value},
// where field leads one of the collection's indexes.
//
// prepareFieldEqualities pushes such an equality down as
// `(field = "value" OR json_type(field) = 'array')`: arrays must reach the handler,
// which matches them if they hold the string. SQLite can not answer that OR with the index,
// so it walks every row. Here the two sides become two SELECTs joined by UNION ALL,
// each of which the index answers: one looks the JSON string up, the other takes the range of
// JSON texts that start with '[' (every array, and nothing else: '\' is the next character).
// A document is in exactly one of them, so the union is what the OR selected.
// The field is spelled as IndexesCreate spells it (`->"field"`), because SQLite matches index
// expressions by their syntax.
//
// Sorted by _id, each SELECT also returns IDColumn for the ORDER BY of the union. For an index
// such as {field: 1, _id: -1}, SQLite then reads the equality's rows in _id order from the index
// and merges them with the (sorted, usually empty) arrays, so a page stops reading once it is full.
func prepareSplitQuery(table, comment string, filter *types.Document, sortByID int64, field, value string) selectQuery {
	conds, args, onlyObjectIDs := prepareWhereConditions(filter, field)
	sorted := sortByID != 0 && onlyObjectIDs

	sel := fmt.Sprintf(`SELECT %s %s`, prepareComment(comment), metadata.DefaultColumn)
	if sorted {
		sel += fmt.Sprintf(`, %s AS %s`, metadata.IDColumn, sortIDColumn)
	}

	sel += fmt.Sprintf(` FROM %q WHERE `, table)

	column := fmt.Sprintf(`%s->%q`, metadata.DefaultColumn, field)
	branch := func(cond string) string {
		return sel + strings.Join(append(slices.Clone(conds), cond), " AND ")
	}

	q := branch(column+` = ?`) + ` UNION ALL ` + branch(column+` >= '[' AND `+column+` < '\'`)

	all := slices.Concat(args, []any{string(must.NotFail(sjson.MarshalSingleValue(value)))}, args)

	if sorted {
		q += ` ORDER BY ` + sortIDColumn
		if sortByID < 0 {
			q += ` DESC`
		}
	}

	return selectQuery{sql: q, args: all, filterPushdown: true, sortPushdown: sorted, sortedByID: sorted}
}

// indexedEquality returns the first pushed-down string equality of the filter (see pushableEquality)
// on a field that is the first key of one of the indexes.
func indexedEquality(filter *types.Document, indexes []metadata.IndexInfo) (field, value string, ok bool) {
	values := filter.Values()

	for i, k := range filter.Keys() {
		v, pushable := pushableEquality(k, values[i])
		if !pushable {
			continue
		}

		for _, index := range indexes {
			if len(index.Key) > 0 && index.Key[0].Field == k {
				return k, v, true
			}
		}
	}

	return "", "", false
}

// hasIDEquality reports whether the filter compares _id with one value,
// which the unique _id index answers better than any other index.
func hasIDEquality(filter *types.Document) bool {
	v, _ := filter.Get("_id")

	switch v := v.(type) {
	case string, types.ObjectID:
		return true
	case *types.Document:
		return v.Has("$eq")
	default:
		return false
	}
}
