package domain

import (
	"strings"

	"golang.org/x/text/currency"
)

// Amount limits in minor units (cents): the same bounds Stripe applies.
const (
	MinAmount = 1
	MaxAmount = 99_999_999
)

// ValidateAmount checks an amount in minor units.
func ValidateAmount(param string, amount int64) error {
	if amount < MinAmount || amount > MaxAmount {
		return Invalid(param, "invalid_amount", "%s must be an integer between %d and %d (minor units).", param, MinAmount, MaxAmount)
	}
	return nil
}

// NormalizeCurrency validates an ISO 4217 code and returns it in upper case.
// It relies on golang.org/x/text's CLDR table rather than a hand-kept list.
func NormalizeCurrency(param, code string) (string, error) {
	u, err := currency.ParseISO(code)
	// ParseISO maps "XXX" (no currency) to the zero Unit without an error.
	if err != nil || len(code) != 3 || u == (currency.Unit{}) {
		return "", Invalid(param, "invalid_currency", "%s must be an ISO 4217 currency code such as USD.", param)
	}
	return strings.ToUpper(code), nil
}
