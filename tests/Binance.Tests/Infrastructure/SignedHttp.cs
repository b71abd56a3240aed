using System.Text.Json;
using TradeEngine.Binance.Signing;

namespace TradeEngine.Binance.Tests.Infrastructure;

/// <summary>Raw signed calls to the simulator, for checking response shapes without the client's parsing.</summary>
public static class SignedHttp
{
    public static async Task<(int Status, JsonElement Body)> SendAsync(HttpClient http, HttpMethod method, string path, string query, bool signed = true)
    {
        var (status, body, _) = await SendWithHeadersAsync(http, method, path, query, signed);
        return (status, body);
    }

    /// <summary>As <see cref="SendAsync"/>, with the response's headers (rate-limit counts, Retry-After).</summary>
    public static async Task<(int Status, JsonElement Body, System.Net.Http.Headers.HttpResponseHeaders Headers)> SendWithHeadersAsync(
        HttpClient http, HttpMethod method, string path, string query, bool signed = true)
    {
        var total = query;
        if (signed)
        {
            var ts = await ServerTimeAsync(http);
            total = (query.Length > 0 ? query + "&" : "") + "recvWindow=5000&timestamp=" + ts.ToString(System.Globalization.CultureInfo.InvariantCulture);
            total += "&signature=" + BinanceSigner.Sign(PaperExchangeHost.ApiSecret, total);
        }

        using var request = method == HttpMethod.Post
            ? new HttpRequestMessage(method, path) { Content = new StringContent(total, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded") }
            : new HttpRequestMessage(method, total.Length > 0 ? path + "?" + total : path);
        if (signed)
        {
            request.Headers.Add("X-MBX-APIKEY", PaperExchangeHost.ApiKey);
        }

        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        return ((int)response.StatusCode, doc.RootElement.Clone(), response.Headers);
    }

    public static async Task<long> ServerTimeAsync(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("fapi/v1/time"));
        return doc.RootElement.GetProperty("serverTime").GetInt64();
    }
}
