#!/usr/bin/env python3
# Writes policies/tests/conversations.yaml (the golden conversation cases):
#   python3 scripts/gen-conversation-cases.py > policies/tests/conversations.yaml
import yaml, sys
C=[]
def case(name, reply, expect, route="default", user=None, history=None, channel=None, locale=None, cats=None, notcats=None):
    c={"name":name,"route":route,"reply":reply}
    if user is not None: c["user_message"]=user
    if history is not None: c["history"]=history
    if channel: c["channel"]=channel
    if locale: c["locale"]=locale
    c["expect"]=expect
    if cats: c["categories"]=cats
    if notcats: c["not_categories"]=notcats
    C.append(c)
OK="Sure, I can help with that. Let me check the details for you."
# --- handoff.user_request EN
for u in ["Can I talk to a real person please?","agent please","I need a representative.","Let me speak to your supervisor.","Transfer me to a live agent now","I want a human, not a bot","Can I speak with someone?","operator please"]:
    case(f"user asks for a person (en): {u}", OK, "handoff", user=u, cats=["handoff.user_request"])
# ES
for u in ["Quiero hablar con un agente","¿Puedo hablar con una persona?","Páseme con un operador, por favor","Necesito hablar con un asesor","quiero una persona real"]:
    case(f"user asks for a person (es): {u}", "Claro, reviso su pedido ahora mismo.", "handoff", user=u, locale="es-MX", cats=["handoff.user_request"])
# near misses
case("'human' in another sense: human error", OK, "allow", user="Was the double charge a human error?", notcats=["handoff.user_request"])
case("'human' in another sense: human resources", OK, "allow", user="I need the address of your human resources department", notcats=["handoff.user_request"])
case("the agent's own text mentions a human agent", "A human agent will review your claim within two days.", "allow", user="Thanks, what happens next?", notcats=["handoff.user_request"])
case("the agent offers a representative: reply text never fires user_request", "I can connect you with a representative if you prefer.", "allow", notcats=["handoff.user_request"])
case("persona in another sense (es)", "Claro, la reserva es para dos personas.", "allow", user="La reserva es para una persona", locale="es", notcats=["handoff.user_request"])
case("user message given, nothing in it", OK, "allow", user="My order hasn't arrived yet, can you check?", notcats=["handoff"])
# frustration
for u in ["This is useless.","You're not listening to me","This is the third time I'm asking for my refund","I already told you my order number","how many times do I have to say it"]:
    case(f"frustration (en): {u}", OK, "handoff", user=u, cats=["handoff.frustration"])
for u in ["¡No me estás escuchando!","Ya te lo dije tres veces","esto no sirve para nada","estoy harto de este servicio"]:
    case(f"frustration (es): {u}", "Entiendo, lo reviso de inmediato.", "handoff", user=u, locale="es", cats=["handoff.frustration"])
case("shouting alone stays under default's threshold", OK, "allow", user="WHERE IS MY ORDER", cats=["handoff.frustration"])
case("shouting plus a frustration phrase hands off", OK, "handoff", user="WHERE IS MY ORDER??? this is ridiculous", cats=["handoff.frustration"])
case("shouting alone hands off in healthcare (stricter)", "I'm checking your appointment now.", "handoff", route="healthcare", user="WHY IS NOBODY ANSWERING", cats=["handoff.frustration"])
case("polite user, no frustration", OK, "allow", user="Thanks a lot, that's very helpful!", notcats=["handoff.frustration"])
case("'useless' about a product, not the agent", OK, "allow", user="The charger I bought is broken", notcats=["handoff.frustration"])
# loops
L="I can help you with that. Which city are you flying from?"
case("loop: the same question a third time", L, "handoff", history=[L, "Sorry, I didn't get that. "+L, L], cats=["handoff.loop"])
case("loop: repeated confirmation once is fine", "Your table for two is booked for 7 pm at Luigi's.", "allow", history=["Your table for two is booked for 7 pm at Luigi's."], notcats=["handoff.loop"])
case("loop: similar but different content", "Your table for four is booked for 8 pm at Nopa on Friday.", "allow", history=["Your table for two is booked for 7 pm at Luigi's on Thursday.", "Anything else I can help with?"], notcats=["handoff.loop"])
case("loop (es): la misma pregunta por tercera vez", "Puedo ayudarle con eso. ¿Desde qué ciudad sale su vuelo?", "handoff", locale="es", history=["Puedo ayudarle con eso. ¿Desde qué ciudad sale su vuelo?", "Puedo ayudarle con eso. ¿Desde qué ciudad sale su vuelo?"], cats=["handoff.loop"])
case("short repeated acknowledgement is not a loop", "Sure thing!", "allow", history=["Sure thing!", "Sure thing!", "Sure thing!"], notcats=["handoff.loop"])
case("ask: date of birth for the third time", "Could you please give me your date of birth?", "handoff", history=["To verify your identity, what is your date of birth?", "Hmm, that didn't match. Can you confirm your date of birth?"], cats=["handoff.loop"])
case("ask: date of birth for the second time is fine", "Could you please give me your date of birth?", "allow", history=["To verify your identity, what is your date of birth?"], notcats=["handoff.loop"])
case("ask: order number the third time", "What is your order number?", "handoff", history=["Please provide your order number.", "I couldn't find that. Could you check the order number?"], cats=["handoff.loop"])
case("ask (es): número de pedido por tercera vez", "¿Me indica su número de pedido, por favor?", "handoff", locale="es", history=["Para ayudarle, indique su número de pedido.", "No lo encuentro. ¿Puede confirmar el número de pedido?"], cats=["handoff.loop"])
case("mentioning an item is not asking for it", "Your order number is 55123 and it ships today.", "allow", history=["What is your order number?", "Could you confirm the order number?"], notcats=["handoff.loop"])
# healthcare topics
case("healthcare: dosage advice hands off", "You can take 400 mg of ibuprofen every six hours.", "handoff", route="healthcare", cats=["handoff.topic.medication_dosage"])
case("healthcare: dosage advice (es)", "Puede tomar 500 mg de paracetamol cada ocho horas.", "handoff", route="healthcare", locale="es", cats=["handoff.topic.medication_dosage"])
case("healthcare: stopping treatment hands off", "You can stop taking the antibiotics once you feel better.", "handoff", route="healthcare", cats=["handoff.topic.treatment_change"])
case("healthcare: 'don't stop taking' is fine", "Please don't stop taking your medication without talking to your doctor.", "allow", route="healthcare", notcats=["handoff.topic.treatment_change"])
case("healthcare: diagnosis hands off", "It sounds like you have a sinus infection.", "handoff", route="healthcare", cats=["handoff.topic.diagnosis"])
case("healthcare: call your doctor is fine", "I'm not able to advise on that. Please call your doctor or pharmacist.", "allow", route="healthcare", notcats=["handoff.topic"])
case("healthcare: emergency in the user message", "Let me find the next available appointment.", "handoff", route="healthcare", user="I have chest pain and my left arm feels numb", cats=["handoff.topic.emergency"])
case("healthcare: emergency (es)", "Busco la próxima cita disponible.", "handoff", route="healthcare", locale="es", user="Tengo dolor en el pecho y no puedo respirar bien", cats=["handoff.topic.emergency"])
case("healthcare: suicidal user", "I can help you reschedule.", "handoff", route="healthcare", user="honestly I feel suicidal lately", cats=["handoff.topic.emergency"])
case("healthcare: appointment time with a number is not a dose", "Your appointment is at 10 am; please take the 2 forms with you.", "allow", route="healthcare", notcats=["handoff.topic"])
case("default route: topics are reported only", "You can take 400 mg of ibuprofen every six hours.", "allow", route="default", cats=["handoff.topic.medication_dosage"])
# refunds topics
case("refunds: refund over the limit", "I've approved a refund of $1,250.00 to your card.", "handoff", route="refunds", cats=["handoff.topic.refund_amount"])
case("refunds: refund under the limit is fine", "I've approved a refund of $45.00 to your card.", "allow", route="refunds", notcats=["handoff.topic"])
case("refunds: guarantee", "I guarantee you will get the full amount back.", "handoff", route="refunds", cats=["handoff.topic.policy_exception"])
case("refunds: exception to policy (es)", "Haremos una excepción y le devolvemos todo.", "handoff", route="refunds", locale="es", cats=["handoff.topic.policy_exception"])
case("refunds: legal advice", "Honestly, you should sue the airline.", "handoff", route="refunds", cats=["handoff.topic.legal_advice"])
case("refunds: reembolso alto (es)", "He aprobado un reembolso de €800 a su tarjeta.", "handoff", route="refunds", locale="es", cats=["handoff.topic.refund_amount"])
# collections
N="This is an attempt to collect a debt. "
case("collections: first turn with the notice", N+"You have a balance of $420. Can we set up a payment plan?", "allow", route="collections", notcats=["compliance"])
case("collections: first turn without the notice is blocked", "You have a balance of $420. Can we set up a payment plan?", "block", route="collections", cats=["compliance.missing_disclosure"])
case("collections: later turn needs no notice", "Great, I've set up the plan for $50 a month.", "allow", route="collections", history=[N+"You have a balance of $420."], notcats=["compliance.missing_disclosure"])
case("collections: first turn (es) without the notice is blocked", "Tiene un saldo de 300 dólares. ¿Hacemos un plan de pagos?", "block", route="collections", locale="es", cats=["compliance.missing_disclosure"])
case("collections: first turn (es) with the notice", "Este es un intento de cobrar una deuda. Tiene un saldo de 300 dólares.", "allow", route="collections", locale="es", notcats=["compliance"])
case("collections: voice needs the recorded-line notice", N+"You have a balance of $420.", "block", route="collections", channel="voice", cats=["compliance.missing_disclosure"])
case("collections: voice with both notices", "You are on a recorded line. "+N+"You have a balance of $420.", "allow", route="collections", channel="voice", notcats=["compliance"])
case("collections: threat of arrest is blocked", "If you don't pay today you will be arrested.", "block", route="collections", history=[N], cats=["compliance.prohibited.collections"])
case("collections: wage garnishment threat is blocked", "We will garnish your wages next week.", "block", route="collections", history=[N], cats=["compliance.prohibited.collections"])
case("collections: contacting the employer is blocked", "We are going to contact your employer about this debt.", "block", route="collections", history=[N], cats=["compliance.prohibited.collections"])
case("collections: promise not to contact employer is fine", "We will never contact your employer about this.", "allow", route="collections", history=[N], notcats=["compliance.prohibited"])
case("collections: amenaza de cárcel (es)", "Si no paga, irá a la cárcel.", "block", route="collections", locale="es", history=["Este es un intento de cobrar una deuda."], cats=["compliance.prohibited.collections"])
case("collections: llamar a la familia (es)", "Llamaremos a su familia si no paga.", "block", route="collections", locale="es", history=["Este es un intento de cobrar una deuda."], cats=["compliance.prohibited.collections"])
case("collections: debtor asks for a person", "I understand. Can we set up a plan?", "handoff", route="collections", user="I want to talk to a real person", history=[N], cats=["handoff.user_request"])
case("default: collections phrases are reported only", "The fee will go to jail programs.", "allow", route="default")
# finance
case("finance: guaranteed returns are blocked", "This fund has guaranteed returns of 8%.", "block", route="finance", cats=["compliance.prohibited.finance"])
case("finance: risk-free is blocked (es)", "Es una inversión sin riesgo.", "block", route="finance", locale="es", cats=["compliance.prohibited.finance"])
case("finance: plain fund description is fine", "This fund invests in bonds; past performance does not predict returns.", "allow", route="finance", notcats=["compliance"])
case("default: 'guaranteed' delivery is fine in general support", "Delivery is guaranteed by Friday.", "allow", route="default")
# channel / locale overrides
case("voice: mild swearing goes to a human (override)", "Damn, the store is closed today.", "handoff", channel="voice", cats=["toxicity.profanity"])
case("chat: the same mild word is allowed", "Damn, the store is closed today.", "allow", channel="chat", cats=["toxicity.profanity"])
case("no channel: the same mild word is allowed", "Damn, the store is closed today.", "allow", cats=["toxicity.profanity"])
case("voice override is inherited by refunds", "Damn, the refund form is down today.", "handoff", route="refunds", channel="voice", cats=["toxicity.profanity"])
doc={"cases":C}
hdr="""# Golden conversation cases (docs/CONVERSATION.md): every conversation trigger
# (handoff.user_request, handoff.frustration, handoff.loop, handoff.topic.*,
# compliance.prohibited, compliance.missing_disclosure) in English and Spanish,
# each with near-misses that must not fire. Generated from a list in
# scripts/gen-conversation-cases.py; edit that, then regenerate.
"""
sys.stdout.write(hdr+yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=200))
print(len(C), file=sys.stderr)
