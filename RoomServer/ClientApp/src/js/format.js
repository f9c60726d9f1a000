// Money is integer minor units on the wire. The room carries no currency, so the link may name one
// (`&currency=EUR`); without it amounts are shown as plain decimals.

export function formatMoney(minor, currency = null, locale = undefined) {
  const value = Number(minor) / 100;
  if (currency) {
    try {
      return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(value);
    } catch {
      // An unknown currency code falls through to the plain format.
    }
  }
  return new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
}
