"""The figures' arithmetic and formatting, shared by the measurements and the report."""


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def ratio(value, baseline):
    if not baseline or value != value:  # NaN
        return "n/a"
    return f"{value / baseline:.1f}x"
