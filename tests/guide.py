"""The guide's eight requests, verbatim: the single copy the tests compare against.

Source: Bandwidth/v2-messaging apisetup.md, as in ../shared/reference/messaging-2.0-setup-guide.md.
"""

#: The guide's eight steps (2018) predate 10DLC and toll-free verification: a test that replays them without the
#: A2P step (a TN Option Order) turns the sandbox's ``a2p_enforcement`` off with these settings.
GUIDE_2018 = {"a2p_enforcement": False}

#: (request URL, body) of each step, in the guide's order.
GUIDE = [
    ("https://dashboard.bandwidth.com/api/accounts/{{accountId}}/applications", """<Application>
  <AppName>Demo Server</AppName>
  <CallbackUrl>https://requestb.in/zuaqjbzu</CallbackUrl>
  <CallbackCreds/>
</Application>"""),
    ("https://dashboard.bandwidth.com/api/accounts/{{account}}/sites/{{subaccount}}/sippeers", """<SipPeer>
  <PeerName>Bandwidth Messaging 2 test2</PeerName>
  <IsDefaultPeer>true</IsDefaultPeer>
</SipPeer>"""),
    ("https://dashboard.bandwidth.com/api/accounts/{{account}}/sites/{{subaccount}}/sippeers/{{location}}/products/"
     "messaging/features/sms", """<SipPeerSmsFeature>
  <SipPeerSmsFeatureSettings>
    <TollFree>true</TollFree>
    <ShortCode>true</ShortCode>
    <Protocol>HTTP</Protocol>
    <Zone1>true</Zone1>
    <Zone2>false</Zone2>
    <Zone3>false</Zone3>
    <Zone4>false</Zone4>
    <Zone5>false</Zone5>
  </SipPeerSmsFeatureSettings>
  <HttpSettings>
    <ProxyPeerId>539692</ProxyPeerId>
  </HttpSettings>
</SipPeerSmsFeature>"""),
    ("https://dashboard.bandwidth.com/api/accounts/{{account}}/sites/{{subaccount}}/sippeers/{{location}}/products/"
     "messaging/features/mms", """<MmsFeature>
  <MmsSettings>
    <protocol>HTTP</protocol>
  </MmsSettings>
  <Protocols>
    <HTTP>
      <HttpSettings>
        <ProxyPeerId>539692</ProxyPeerId>
      </HttpSettings>
    </HTTP>
  </Protocols>
</MmsFeature>"""),
    ("https://dashboard.bandwidth.com/api/accounts/{{account}}/sites/{{subaccount}}/sippeers/{{location}}/products/"
     "messaging/applicationSettings", """<ApplicationsSettings>
  <HttpMessagingV2AppId>299ab22a-d7e6-4cf6-9f4d-2089efc0c031</HttpMessagingV2AppId>
</ApplicationsSettings>"""),
    ("https://dashboard.bandwidth.com/api/accounts/{{account}}/orders", """<Order>
  <AreaCodeSearchAndOrderType>
    <AreaCode>910</AreaCode>
    <Quantity>1</Quantity>
  </AreaCodeSearchAndOrderType>
  <SiteId>{{subaccount}}</SiteId>
  <PeerId>{{location}}</PeerId>
</Order>"""),
    ("https://dashboard.bandwidth.com/api/accounts/{{account}}/orders/{{order}}", None),
    ("https://api.catapult.inetwork.com/v2/users/{{userId}}/messages", """{
  "from"          : "{{your-bandwidth-number}}",
  "to"            : "{{yourTN}}",
  "text"          : "Good morning, this is a test message",
  "applicationId" : "{{your-application-id}}"
}"""),
]

#: The bodies of steps 3 (SMS) and 4 (MMS), used by the sandbox tests.
SMS_BODY = GUIDE[2][1]
MMS_BODY = GUIDE[3][1]
