package terminal_test

import "github.com/posrt/posrt/runtime/money"

func moneyFen(n int64) money.Fen { return money.Fen(n) }
