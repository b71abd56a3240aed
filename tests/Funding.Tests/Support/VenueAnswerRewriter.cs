using System.Text;

namespace TradeEngine.Funding.Tests.Support;

/// <summary>
/// Rewrites the body of each successful venue answer (path, body → body) before Funding's venue client reads it:
/// a venue answer PaperExchange never gives (a mark price of 0), read through the client's real parsing.
/// </summary>
public sealed class VenueAnswerRewriter(Func<string, string, string> rewrite) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode || request.RequestUri is null)
        {
            return response;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var rewritten = rewrite(request.RequestUri.AbsolutePath, body);
        var headers = response.Content.Headers.ToList();
        response.Content = new StringContent(rewritten, Encoding.UTF8);
        foreach (var (name, values) in headers.Where(h => !h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)))
        {
            response.Content.Headers.Remove(name);
            response.Content.Headers.TryAddWithoutValidation(name, values);
        }

        return response;
    }
}
