// Money is integer minor units on the wire. The room carries no currency, so the link may name one
// (`&currency=EUR`); without it amounts are shown as plain decimals. A minor unit is the currency's own
// (ISO 4217): a hundredth of a euro or a forint, but a whole yen and a thousandth of a dinar. Intl's
// fraction digits are not that: they are how a currency is usually written (0 for HUF and IDR, whose
// minor unit is a hundredth), so they set only the least shown, never the scale.

/** ISO 4217 minor units other than two. */
const MINOR_DIGITS = new Map([
  ...['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']
    .map((code) => [code, 0]),
  ...['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'].map((code) => [code, 3]),
  ...['CLF', 'UYW'].map((code) => [code, 4]),
]);

/** The decimals of a currency's minor unit (ISO 4217): 2 unless listed. */
export function minorDigits(currency) {
  return MINOR_DIGITS.get(String(currency).toUpperCase()) ?? 2;
}

export function formatMoney(minor, currency = null, locale = undefined) {
  if (currency) {
    try {
      const digits = minorDigits(currency);
      const usual = new Intl.NumberFormat(locale, { style: 'currency', currency }).resolvedOptions().minimumFractionDigits;
      // An amount with a part below the major unit shows every decimal (1 234,50, not 1 234,5).
      const whole = Number(minor) % 10 ** digits === 0;
      return new Intl.NumberFormat(locale, {
        style: 'currency', currency, minimumFractionDigits: whole ? Math.min(usual, digits) : digits, maximumFractionDigits: digits,
      }).format(Number(minor) / 10 ** digits);
    } catch {
      // An unknown currency code falls through to the plain format.
    }
  }
  return new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Number(minor) / 100);
}
