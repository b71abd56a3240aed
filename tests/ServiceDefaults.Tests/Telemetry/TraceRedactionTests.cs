using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace TradeEngine.ServiceDefaults.Tests.Telemetry;

public sealed class TraceRedactionTests
{
    [Theory]
    [InlineData("?symbol=BTCUSDT&timestamp=1&signature=ab12cd", "?symbol=BTCUSDT&timestamp=1&signature=REDACTED")]
    [InlineData("?signature=ab12&symbol=BTCUSDT", "?signature=REDACTED&symbol=BTCUSDT")]
    [InlineData("signature=ab12", "signature=REDACTED")]
    [InlineData("?SIGNATURE=ab12", "?SIGNATURE=REDACTED")]
    [InlineData("?symbol=BTCUSDT", "?symbol=BTCUSDT")]
    [InlineData("?mysignature=ab12", "?mysignature=ab12")]
    public void RedactSignature_OnlyTheSignaturesValue(string query, string expected) =>
        Assert.Equal(expected, TraceRedaction.RedactSignature(query));

    [Fact]
    public void RedactClientUrl_SignedQuery_UrlWithoutItsQuery()
    {
        using var activity = new Activity("client").Start();
        activity.SetTag("url.full", "http://127.0.0.1:5000/fapi/v3/account?timestamp=1&signature=ab12cd");

        TraceRedaction.RedactClientUrl(activity, new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1:5000/fapi/v3/account?timestamp=1&signature=ab12cd"));

        Assert.Equal("http://127.0.0.1:5000/fapi/v3/account?*", activity.GetTagItem("url.full"));
    }

    [Fact]
    public void RedactServerQuery_SignedQuery_SignatureReplacedRestKept()
    {
        using var activity = new Activity("server").Start();
        var context = new DefaultHttpContext();
        context.Request.QueryString = new QueryString("?symbol=BTCUSDT&timestamp=1&signature=ab12cd");
        activity.SetTag("url.query", context.Request.QueryString.Value);

        TraceRedaction.RedactServerQuery(activity, context.Request);

        Assert.Equal("?symbol=BTCUSDT&timestamp=1&signature=REDACTED", activity.GetTagItem("url.query"));
    }
}
