using System.Text.Json;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Engine;

// The account's position mode (Binance's "dualSidePosition"): one-way or hedge, for every symbol.
public sealed partial class PaperEngine
{
    /// <summary>
    /// POST /fapi/v1/positionSide/dual: dualSidePosition "true" (hedge mode) or "false" (one-way); anything else -1130.
    /// The mode the account has already: -4059. Any open order, plain or conditional: -4067; any position: -4068.
    /// </summary>
    public void SetPositionMode(VenueParams p, Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(p);
        lock (_lock)
        {
            SyncLocked();
            var dual = p.Required("dualSidePosition") switch
            {
                "true" => true,
                "false" => false,
                _ => throw VenueErrors.IllegalValue("dualSidePosition"),
            };
            if (dual == _dualSide)
            {
                throw VenueErrors.NoNeedToChangePositionSide();
            }

            if (_openOrders.Count > 0 || _openAlgo.Count > 0)
            {
                throw VenueErrors.PositionSideWithOpenOrders();
            }

            if (_positions.Values.Any(pos => pos.Amount != 0m))
            {
                throw VenueErrors.PositionSideWithPosition();
            }

            _dualSide = dual;
            _version++;
            VenueJson.CodeMsg(w, 200, "success");
        }
    }

    /// <summary>GET /fapi/v1/positionSide/dual: <c>{"dualSidePosition": true}</c> in hedge mode, false in one-way mode.</summary>
    public void PositionModeStatus(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        lock (_lock)
        {
            SyncLocked();
            w.WriteStartObject();
            w.WriteBoolean("dualSidePosition", _dualSide);
            w.WriteEndObject();
        }
    }
}
