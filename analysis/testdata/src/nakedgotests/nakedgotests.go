// Package nakedgotests is checked with -nakedgo.tests.
package nakedgotests

func work() {}
