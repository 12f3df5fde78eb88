package testcards

import "testing"

func luhnValid(pan string) bool {
	sum := 0
	for i := range len(pan) {
		d := int(pan[len(pan)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func TestCardsPassLuhn(t *testing.T) {
	for name, c := range Cards {
		if !luhnValid(c.PAN) {
			t.Errorf("card %s: PAN %s fails the Luhn check", name, c.PAN)
		}
		if luhnValid(c.PAN[:len(c.PAN)-1] + string('0'+(c.PAN[len(c.PAN)-1]-'0'+1)%10)) {
			t.Errorf("card %s: Luhn check accepts a wrong check digit", name)
		}
	}
}
