package domain

// TestPaymentMethods are the mock provider's payment methods and the
// decline code each one fails with ("" succeeds).
var TestPaymentMethods = map[string]string{
	"pm_fake_visa":               "",
	"pm_fake_mastercard":         "",
	"pm_fake_declined":           "card_declined",
	"pm_fake_insufficient_funds": "insufficient_funds",
}

// ValidatePaymentMethod refuses an unknown payment method id.
func ValidatePaymentMethod(param, id string) error {
	if _, ok := TestPaymentMethods[id]; !ok {
		return Invalid(param, "invalid_payment_method", "%s must be one of the test payment methods: pm_fake_visa, pm_fake_mastercard, pm_fake_declined, pm_fake_insufficient_funds.", param)
	}
	return nil
}
